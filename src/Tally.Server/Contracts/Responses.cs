using System.Text.Json.Serialization;

namespace Tally.Server.Contracts;

public sealed record OptionResponse(int Id, string Text);

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
    string ResultsVisibility);

public sealed record PollListResponse(IReadOnlyList<PollResponse> Items, string? NextCursor);

public sealed record VoteResponse(string VoteId, long Seq, string Status);

public sealed record BatchError(string Type, string Title, string Detail);

public sealed record BatchVoteResult(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? VoteId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Seq,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] BatchError? Error);

public sealed record BatchVoteResponse(IReadOnlyList<BatchVoteResult> Results);

public sealed record OptionResultResponse(int Id, string Text, long Votes);

/// <summary><c>GET /v1/polls/{id}/results</c>.</summary>
public sealed record ResultsResponse(string PollId, long Seq, string Status, long TotalVotes, IReadOnlyList<OptionResultResponse> Options);

public sealed record HealthResponse(string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Checks = null);

public sealed record WorkspaceResponse(string Id, string Name, DateTimeOffset CreatedAt, WorkspaceSettingsResponse Settings);

/// <summary>A workspace's settings as answered: the HMAC secret is never sent back, only whether there is one.</summary>
public sealed record WorkspaceSettingsResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JwtSettingsResponse? Jwt,
    IReadOnlyList<string> AllowedOrigins,
    IReadOnlyList<string> Embedders);

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
