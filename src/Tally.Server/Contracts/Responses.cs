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
    long TotalVotes);

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
