namespace Tally.Polls;

/// <summary>The immutable definition of a poll, as recorded by <see cref="Events.PollCreated"/>.</summary>
/// <param name="Workspace">The workspace that owns the poll (its id); polls made before workspaces existed are the default one's.</param>
/// <param name="VoterIdentity">How voters are told apart; dedupe uses only this identity.</param>
/// <param name="Access">Who may read the poll, its results and streams.</param>
/// <param name="Results">When readers without rights in the workspace may see the counts.</param>
/// <param name="ScaleMin">On a scale kind (<see cref="PollKinds.IsScale"/>): the value of option 1 (option <c>n</c> is value
/// <c>ScaleMin + n - 1</c>); 0 and unused on the other kinds.</param>
/// <param name="OpensAt">When a scheduled poll opens by itself; null for a poll that opens at once or by hand.</param>
/// <param name="StartsAsDraft">True when the poll starts as a draft (by hand, or until <paramref name="OpensAt"/>).</param>
/// <param name="MaxBallots">The poll closes once it has counted this many ballots; null for no limit.</param>
/// <param name="AllowReopen">True when a manager may reopen the poll once it is closed.</param>
/// <param name="Quiz">On a quiz question: its correct options, points and time limit; null on the other kinds.</param>
/// <param name="EventId">On a question of an event: the event's id (the question's id is the event's, <c>q</c> and its number).</param>
/// <param name="Event">On an event: its join code, passcode and leaderboard rules; null on the other kinds.</param>
/// <param name="Text">On a text poll: its answers' length, language and moderation; null on the other kinds.</param>
/// <param name="Questions">On a Q&amp;A poll: its questions' length, moderation and the most one voter asks; null on the other kinds.</param>
public sealed record PollDefinition(
    string Id,
    string Question,
    PollKind Kind,
    int MaxChoices,
    IReadOnlyList<PollOption> Options,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosesAt,
    DedupePolicy Dedupe,
    bool AllowChange,
    string Workspace = Access.WorkspaceIds.Default,
    VoterIdentity VoterIdentity = VoterIdentity.Client,
    PollAccess Access = PollAccess.Public,
    ResultsVisibility Results = ResultsVisibility.Live,
    int ScaleMin = 0,
    DateTimeOffset? OpensAt = null,
    bool StartsAsDraft = false,
    long? MaxBallots = null,
    bool AllowReopen = false,
    QuizSettings? Quiz = null,
    string? EventId = null,
    EventSettings? Event = null,
    TextSettings? Text = null,
    QuestionSettings? Questions = null)
{
    /// <summary>On a scale kind: the value of the last option.</summary>
    public int ScaleMax => ScaleMin + Options.Count - 1;

    /// <summary>True when <paramref name="optionId"/> names one of this poll's options.</summary>
    public bool HasOption(int optionId) => optionId >= 1 && optionId <= Options.Count;

    /// <summary>On a scale kind: the value option <paramref name="optionId"/> stands for.</summary>
    public int ValueOf(int optionId) => ScaleMin + optionId - 1;

    /// <summary>On an event: the id of its question <paramref name="question"/> (1-based).</summary>
    public string QuestionId(int question) => EventIds.QuestionId(Id, question);
}
