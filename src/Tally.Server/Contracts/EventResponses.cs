using System.Text.Json.Serialization;

namespace Tally.Server.Contracts;

/// <summary>An event as <c>GET /v1/events/{id}</c> answers it (the join code only to its workspace's managers).</summary>
public sealed record EventResponse(
    string Id,
    string Title,
    string Status,
    long Seq,
    DateTimeOffset CreatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? JoinCode,
    bool PasscodeRequired,
    IReadOnlyList<EventQuestionResponse> Questions,
    EventProgressResponse Progress,
    LeaderboardResponse Leaderboard,
    string Workspace,
    string VoterIdentity,
    string Access);

/// <summary>One question of an event: its number, its poll (vote on it, watch it, read its results) and its text.</summary>
public sealed record EventQuestionResponse(int Number, string PollId, string Question);

/// <summary>Which question is live (0: none yet), since when, whether its results are revealed, and the quiz rounds played.</summary>
public sealed record EventProgressResponse(
    int Current,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CurrentPollId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ShownAt,
    bool Revealed,
    int Round);

/// <summary>The participants and the top of the leaderboard (score, then who reached it first).</summary>
public sealed record LeaderboardResponse(int Participants, IReadOnlyList<StandingResponse> Leaders);

/// <summary>One participant's standing.</summary>
public sealed record StandingResponse(int Rank, string Name, long Score, int Streak, int Correct, int Answered);

/// <summary><c>GET /v1/join/{code}</c>: the event a join code names.</summary>
public sealed record JoinLookupResponse(string EventId, string Title, string Status, bool PasscodeRequired, int Questions, string VoterIdentity);

/// <summary><c>GET /v1/events/{id}/leaderboard</c>.</summary>
public sealed record LeadersResponse(string EventId, int Participants, IReadOnlyList<StandingResponse> Items);

/// <summary>What an event's stream messages carry beside the poll fields: its progress and leaderboard.</summary>
public sealed record EventLiveResponse(EventProgressResponse Progress, LeaderboardResponse Leaderboard);
