namespace Tally.Server.Contracts;

/// <summary>Body of <c>POST /v1/polls</c>. Everything is nullable so that a missing field gets a precise 422, not a parse error.</summary>
public sealed class CreatePollRequest
{
    public string? Question { get; set; }

    public List<string?>? Options { get; set; }

    /// <summary><c>single</c> (default), <c>multiple</c>, <c>rating</c> or <c>nps</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>On a <c>rating</c> poll: its scale (default 1–5). An <c>nps</c> poll's is always 0–10.</summary>
    public ScaleBody? Scale { get; set; }

    public int? MaxChoices { get; set; }

    public DateTimeOffset? ClosesAt { get; set; }

    /// <summary>When the poll opens by itself; until then it is <c>scheduled</c> and refuses votes.</summary>
    public DateTimeOffset? OpensAt { get; set; }

    /// <summary>True: the poll starts as a <c>draft</c> and opens by <c>POST /v1/polls/{id}/open</c> (or at <c>opensAt</c>).</summary>
    public bool? Draft { get; set; }

    /// <summary>The poll closes once it has counted this many ballots.</summary>
    public long? MaxBallots { get; set; }

    /// <summary>True: a manager may reopen the poll after it closes (<c>POST /v1/polls/{id}/reopen</c>).</summary>
    public bool? AllowReopen { get; set; }

    /// <summary><c>voter</c> (default) or <c>none</c>.</summary>
    public string? Dedupe { get; set; }

    public bool? AllowChange { get; set; }

    /// <summary><c>anonymous</c> (the default), <c>token</c>, <c>invite</c> or <c>client</c>: how voters are told apart.</summary>
    public string? VoterIdentity { get; set; }

    /// <summary><c>public</c> (default) or <c>private</c>.</summary>
    public string? Access { get; set; }

    /// <summary><c>live</c> (default), <c>afterVote</c>, <c>afterClose</c> or <c>never</c>.</summary>
    public string? ResultsVisibility { get; set; }

    /// <summary>On a quiz question (kind <c>quiz</c>, in an event): the ids of its correct options.</summary>
    public List<int>? Correct { get; set; }

    /// <summary>On a quiz question: the points of a correct answer within half a second (default 1000).</summary>
    public int? Points { get; set; }

    /// <summary>On a quiz question: how long it takes answers once shown (default 20 s).</summary>
    public int? TimeLimitSeconds { get; set; }

    /// <summary>On a text poll: the longest answer (default 140, at most 500).</summary>
    public int? MaxLength { get; set; }

    /// <summary>On a text poll: the language whose stop words its terms leave out: <c>en</c> (default), <c>fr</c>, <c>de</c>, <c>es</c>, <c>none</c>.</summary>
    public string? Language { get; set; }

    /// <summary>On a text or Q&amp;A poll: hold answers (questions) until a manager approves them.</summary>
    public bool? Moderation { get; set; }

    /// <summary>On a Q&amp;A poll: the most questions one voter may ask (default 5, 1 to 100).</summary>
    public int? MaxQuestionsPerVoter { get; set; }
}

/// <summary>Body of <c>POST /v1/events</c>.</summary>
public sealed class CreateEventRequest
{
    public string? Title { get; set; }

    /// <summary>The questions in order, each as the body of <c>POST /v1/polls</c> (kind <c>quiz</c> too).</summary>
    public List<CreatePollRequest?>? Questions { get; set; }

    /// <summary>An optional passcode participants give to join.</summary>
    public string? Passcode { get; set; }

    /// <summary>Points per step of a streak of correct quiz answers (default 0).</summary>
    public int? StreakBonus { get; set; }

    /// <summary>How many leaders the event's results and stream carry (default 10).</summary>
    public int? LeaderboardSize { get; set; }

    /// <summary>How participants are told apart (as a poll's <c>voterIdentity</c>); every question has the event's.</summary>
    public string? VoterIdentity { get; set; }

    /// <summary><c>public</c> (default) or <c>private</c>, for the event and every question.</summary>
    public string? Access { get; set; }
}

/// <summary>Body of <c>POST /v1/events/{id}/join</c>.</summary>
public sealed class JoinEventRequest
{
    /// <summary>The name the leaderboard shows (1 to 40 characters, unique in the event).</summary>
    public string? Name { get; set; }

    public string? Passcode { get; set; }

    /// <summary>On an event whose voter identity is <c>client</c>: the participant's id in the host application.</summary>
    public string? VoterId { get; set; }
}

/// <summary>A rating poll's scale as sent: the lowest and highest value (each optional: min 1, max min + 4).</summary>
public sealed class ScaleBody
{
    public int? Min { get; set; }

    public int? Max { get; set; }
}

/// <summary>Body of <c>POST /v1/polls/{id}/votes</c>.</summary>
public sealed class VoteRequest
{
    public int[]? OptionIds { get; set; }

    /// <summary>On a rating or nps poll: the value chosen, in place of <c>optionIds</c>.</summary>
    public int? Value { get; set; }

    /// <summary>On a text poll: the answer, in place of <c>optionIds</c>; on a Q&amp;A poll: a new question.</summary>
    public string? Text { get; set; }

    /// <summary>On a Q&amp;A poll: the vote id (<c>{pollId}-{seq}</c>) of the question upvoted, in place of <c>text</c>.</summary>
    public string? Upvote { get; set; }

    /// <summary>The voter, on <c>client</c> polls (trusted only from a <c>votes:write</c> caller).</summary>
    public string? VoterId { get; set; }

    /// <summary>The invite code, on <c>invite</c> polls.</summary>
    public string? InviteCode { get; set; }
}

/// <summary>Body of <c>POST /v1/votes/batch</c>.</summary>
public sealed class BatchVoteRequest
{
    public List<BatchVoteItem?>? Votes { get; set; }
}

/// <summary>One ballot of a batch.</summary>
public sealed class BatchVoteItem
{
    public string? PollId { get; set; }

    public int[]? OptionIds { get; set; }

    /// <summary>On a rating or nps poll: the value chosen, in place of <c>optionIds</c>.</summary>
    public int? Value { get; set; }

    /// <summary>On a text poll: the answer; on a Q&amp;A poll: a new question.</summary>
    public string? Text { get; set; }

    /// <summary>On a Q&amp;A poll: the vote id of the question upvoted.</summary>
    public string? Upvote { get; set; }

    public string? VoterId { get; set; }

    public string? InviteCode { get; set; }

    public string? IdempotencyKey { get; set; }
}

/// <summary>Body of <c>POST /v1/workspaces</c>.</summary>
public sealed class CreateWorkspaceRequest
{
    /// <summary>1–40 lowercase letters, digits and inner hyphens.</summary>
    public string? Id { get; set; }

    public string? Name { get; set; }

    public WorkspaceSettingsBody? Settings { get; set; }
}

/// <summary>Body of <c>PATCH /v1/workspaces/{id}</c>: the name when given; the settings, when given, replace the old ones whole.</summary>
public sealed class UpdateWorkspaceRequest
{
    public string? Name { get; set; }

    public WorkspaceSettingsBody? Settings { get; set; }
}

/// <summary>A workspace's settings as sent: a field left out is none (no issuer, no origins, no embedders).</summary>
public sealed class WorkspaceSettingsBody
{
    public JwtSettingsBody? Jwt { get; set; }

    public List<string?>? AllowedOrigins { get; set; }

    public List<string?>? Embedders { get; set; }

    /// <summary>Terms its text polls' word clouds never count (at most 1,000, each one word).</summary>
    public List<string?>? BlockedTerms { get; set; }
}

/// <summary>A workspace's JWT issuer: <c>issuer</c>, optional <c>audience</c>, and one of <c>hmacSecret</c> (HS256) or <c>jwksUrl</c> (RS256/ES256).</summary>
public sealed class JwtSettingsBody
{
    public string? Issuer { get; set; }

    public string? Audience { get; set; }

    public string? HmacSecret { get; set; }

    public string? JwksUrl { get; set; }
}

/// <summary>Body of <c>POST /v1/workspaces/{id}/keys</c>.</summary>
public sealed class CreateKeyRequest
{
    public string? Name { get; set; }

    /// <summary>Some of <c>polls:read</c>, <c>polls:manage</c>, <c>votes:write</c>, <c>admin</c>.</summary>
    public List<string?>? Scopes { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }
}

/// <summary>Body of <c>POST /v1/polls/{id}/invites</c>.</summary>
public sealed class MintInvitesRequest
{
    public int? Count { get; set; }
}

/// <summary>Body of <c>POST /v1/polls/{id}/erasures</c>: whose ballot to erase.</summary>
public sealed class ErasureRequest
{
    /// <summary>The voter id as the poll knows it (your app's user id, a token's <c>sub</c>, Tally's anonymous id).</summary>
    public string? VoterId { get; set; }
}

/// <summary>Body of <c>POST /v1/polls/{id}/watch-tokens</c> (optional).</summary>
public sealed class WatchTokenRequest
{
    public int? TtlSeconds { get; set; }
}
