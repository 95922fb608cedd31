using System.Text.Json.Serialization;

namespace Tally.Server.Contracts;

/// <param name="Value">On a rating or nps poll: the value the option stands for.</param>
public sealed record OptionResponse(int Id, string Text, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Value = null);

/// <summary>A rating or nps poll's scale: the lowest and highest value.</summary>
public sealed record ScaleResponse(int Min, int Max);

/// <summary>A poll as <c>GET /v1/polls/{id}</c> answers it.</summary>
public sealed record PollResponse(
    string Id,
    string Question,
    string Kind,
    int MaxChoices,
    IReadOnlyList<OptionResponse> Options,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosesAt,
    DateTimeOffset? ClosedAt,
    string Dedupe,
    bool AllowChange,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? TotalVotes,
    string Workspace,
    string VoterIdentity,
    string Access,
    string ResultsVisibility,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ScaleResponse? Scale = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? OpensAt = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? MaxBallots = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? AllowReopen = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EventId = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] QuizResponse? Quiz = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TextSettingsResponse? Text = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] QuestionSettingsResponse? Questions = null);

/// <summary>A Q&amp;A poll's rules: the longest question, whether questions wait for a manager, and how many one voter may ask.</summary>
public sealed record QuestionSettingsResponse(int MaxLength, bool Moderation, int MaxQuestionsPerVoter);

/// <summary>A text poll's rules: the longest answer, the stop words' language, and whether answers wait for a manager.</summary>
public sealed record TextSettingsResponse(int MaxLength, string Language, bool Moderation);

/// <summary>A quiz question's points and time limit, when it was shown and when its answers stop, and (once closed) its correct options.</summary>
public sealed record QuizResponse(
    int Points,
    int TimeLimitSeconds,
    DateTimeOffset? ShownAt,
    DateTimeOffset? Deadline,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<int>? Correct);

public sealed record PollListResponse(IReadOnlyList<PollResponse> Items, string? NextCursor);

public sealed record VoteResponse(string VoteId, long Seq, string Status);

public sealed record BatchError(string Type, string Title, string Detail);

public sealed record BatchVoteResult(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? VoteId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Seq,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BatchError? Error);

public sealed record BatchVoteResponse(IReadOnlyList<BatchVoteResult> Results);

/// <param name="Value">On a rating or nps poll: the value the option stands for.</param>
public sealed record OptionResultResponse(int Id, string Text, long Votes, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Value = null);

/// <summary><c>GET /v1/polls/{id}/results</c>.</summary>
/// <param name="Summary">On a rating or nps poll: what the distribution in <paramref name="Options"/> adds up to.</param>
public sealed record ResultsResponse(
    string PollId,
    long Seq,
    string Status,
    long TotalVotes,
    IReadOnlyList<OptionResultResponse> Options,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] SummaryResponse? Summary = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RankingResponse? Ranking = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TextResponse? Text = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] QuestionsResponse? Questions = null);

/// <summary>
/// A Q&amp;A poll's questions: those shown (<c>asked</c>: approved, when moderated), those held for moderation, and the top 100
/// shown, the most upvoted first, the oldest first among equals.
/// </summary>
public sealed record QuestionsResponse(long Asked, int Held, IReadOnlyList<QuestionItemResponse> Items);

/// <summary>A shown question: its vote id (what an upvote names), text, upvotes, whether a presenter answered it, and when it was asked.</summary>
public sealed record QuestionItemResponse(string Id, string Text, long Votes, bool Answered, DateTimeOffset At);

/// <summary>
/// A text poll's figures: answers counted (approved, when moderated), answers held for moderation, and the most used terms
/// (a term's <c>count</c> may overstate by its <c>error</c>, 0 unless the summary of <c>capacity</c> counters had to forget terms).
/// </summary>
public sealed record TextResponse(long Answers, int Held, IReadOnlyList<TermResponse> Terms, int Capacity);

public sealed record TermResponse(string Term, long Count, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] long Error = 0);

/// <summary>A held answer of a moderated text poll: its vote id, text, terms and time.</summary>
public sealed record HeldAnswerResponse(string VoteId, string Text, IReadOnlyList<string> Terms, DateTimeOffset At);

public sealed record HeldAnswersResponse(string PollId, int Held, IReadOnlyList<HeldAnswerResponse> Items);

/// <summary>
/// A ranking poll's figures: the ballots, the method of the options' <c>votes</c> (<c>"borda"</c>: of N options, N points for
/// a first place … 1 for an N-th, 0 unranked), and the instant-runoff count over every ballot.
/// </summary>
public sealed record RankingResponse(long Ballots, string Scores, IrvResponse InstantRunoff);

/// <summary>The instant-runoff count: the winner's option id (null with no ballot) and every round.</summary>
public sealed record IrvResponse(int? Winner, IReadOnlyList<IrvRoundResponse> Rounds);

/// <summary>One round: votes per option still in the count, exhausted ballots, and (but in the last round) the option eliminated and where its ballots went.</summary>
public sealed record IrvRoundResponse(
    int Round,
    IReadOnlyList<OptionVotesResponse> Votes,
    long Exhausted,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Eliminated,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<OptionVotesResponse>? Transfers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? TransferredToExhausted);

public sealed record OptionVotesResponse(int Id, long Votes);

/// <summary><c>POST /v1/verify</c>: whether every poll's served results equal a recomputation from the log, and what differs (the first 100).</summary>
public sealed record VerifyResponse(bool Ok, long Polls, long Events, long DifferenceCount, IReadOnlyList<VerifyDifferenceResponse> Differences);

/// <summary><c>POST /v1/polls/{id}/erasures</c>: whether the voter had a ballot (now erased), its vote id, and the poll's seq after it.</summary>
public sealed record ErasureResponse(
    string PollId,
    long Seq,
    bool Erased,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? VoteId);

public sealed record VerifyDifferenceResponse(string PollId, string What, string Served, string Recomputed);

/// <summary>A scale poll's figures: ballots, the sum of their values, the mean (2 decimals, null with no ballot), and on nps polls the NPS.</summary>
public sealed record SummaryResponse(
    long Count,
    long Sum,
    double? Mean,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] NpsResponse? Nps);

/// <summary>Promoters (9–10), passives (7–8), detractors (0–6), and the score: promoters' % minus detractors' % (1 decimal; null with no ballot).</summary>
public sealed record NpsResponse(long Promoters, long Passives, long Detractors, double? Score);

public sealed record HealthResponse(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Checks = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Durability = null);

public sealed record WorkspaceResponse(string Id, string Name, DateTimeOffset CreatedAt, WorkspaceSettingsResponse Settings);

/// <summary>A workspace's settings as answered: the HMAC secret is never sent back, only whether there is one.</summary>
public sealed record WorkspaceSettingsResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JwtSettingsResponse? Jwt,
    IReadOnlyList<string> AllowedOrigins,
    IReadOnlyList<string> Embedders,
    IReadOnlyList<string> BlockedTerms);

public sealed record JwtSettingsResponse(
    string Issuer,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Audience,
    bool HmacSecret,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? JwksUrl);

public sealed record WorkspaceListResponse(IReadOnlyList<WorkspaceResponse> Items);

/// <summary>An API key as listed: never its secret.</summary>
public sealed record ApiKeyResponse(
    string Id,
    string Workspace,
    string Name,
    IReadOnlyList<string> Scopes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastUsedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CreatedBy);

/// <summary>A key just made: the only answer that carries its secret (<c>key</c>).</summary>
public sealed record CreatedKeyResponse(string Key, ApiKeyResponse Details);

public sealed record ApiKeyListResponse(IReadOnlyList<ApiKeyResponse> Items);

public sealed record AuditEntryResponse(
    long Id,
    DateTimeOffset At,
    string Actor,
    string Action,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Target,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail);

public sealed record AuditPageResponse(IReadOnlyList<AuditEntryResponse> Items, string? NextCursor);

public sealed record InvitesResponse(string PollId, IReadOnlyList<string> Codes);

public sealed record WatchTokenResponse(string Token, DateTimeOffset ExpiresAt);

/// <summary>An anonymous voter id Tally issued: send <c>voterToken</c> as <c>Authorization: Bearer</c>, or let the cookie carry it.</summary>
public sealed record VoterResponse(string VoterToken, DateTimeOffset ExpiresAt);
