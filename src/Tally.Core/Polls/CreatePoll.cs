namespace Tally.Polls;

/// <summary>The command to create a poll. Fields are as the client sent them; <see cref="PollRules"/> validates them.</summary>
/// <param name="ScaleMin">On a <c>rating</c> poll: the lowest value (default 1); <c>nps</c> is always 0–10.</param>
/// <param name="ScaleMax">On a <c>rating</c> poll: the highest value (default 5).</param>
/// <param name="OpensAt">When the poll opens by itself (it is "scheduled" until then); must be in the future.</param>
/// <param name="Draft">Start as a draft that opens only by hand (or at <paramref name="OpensAt"/>).</param>
/// <param name="MaxBallots">Close once this many ballots are counted.</param>
/// <param name="AllowReopen">Let a manager reopen the poll once it is closed.</param>
/// <param name="Workspace">The workspace that will own the poll: the caller's, never the body's.</param>
/// <param name="Correct">On a quiz question: the ids of its correct options.</param>
/// <param name="Points">On a quiz question: the points of a correct answer (default 1000).</param>
/// <param name="TimeLimitSeconds">On a quiz question: how long it takes answers once shown (default 20 s).</param>
/// <param name="EventId">The event the poll is a question of: set by <see cref="EventRules"/>, never from a request body.</param>
/// <param name="MaxLength">On a text poll: the longest answer (default 140, at most 500).</param>
/// <param name="Language">On a text poll: the language whose stop words its terms leave out (default <c>en</c>).</param>
/// <param name="Moderation">On a text or Q&amp;A poll: hold answers (questions) until a manager approves them.</param>
/// <param name="MaxQuestionsPerVoter">On a Q&amp;A poll: the most questions one voter may ask (default 5, at most 100).</param>
public sealed record CreatePoll(
    string? Question,
    IReadOnlyList<string?>? Options,
    PollKind Kind = PollKind.Single,
    int? MaxChoices = null,
    DateTimeOffset? ClosesAt = null,
    DedupePolicy Dedupe = DedupePolicy.Voter,
    bool AllowChange = false,
    string Workspace = Access.WorkspaceIds.Default,
    VoterIdentity VoterIdentity = VoterIdentity.Client,
    PollAccess Access = PollAccess.Public,
    ResultsVisibility Results = ResultsVisibility.Live,
    int? ScaleMin = null,
    int? ScaleMax = null,
    DateTimeOffset? OpensAt = null,
    bool Draft = false,
    long? MaxBallots = null,
    bool AllowReopen = false,
    IReadOnlyList<int>? Correct = null,
    int? Points = null,
    int? TimeLimitSeconds = null,
    string? EventId = null,
    int? MaxLength = null,
    string? Language = null,
    bool Moderation = false,
    int? MaxQuestionsPerVoter = null);
