namespace Tally.Server.Contracts;

/// <summary>Body of <c>POST /v1/polls</c>. Everything is nullable so that a missing field gets a precise 422, not a parse error.</summary>
public sealed class CreatePollRequest
{
    public string? Question { get; set; }

    public List<string?>? Options { get; set; }

    /// <summary><c>single</c> (default) or <c>multiple</c>.</summary>
    public string? Kind { get; set; }

    public int? MaxChoices { get; set; }

    public DateTimeOffset? ClosesAt { get; set; }

    /// <summary><c>voter</c> (default) or <c>none</c>.</summary>
    public string? Dedupe { get; set; }

    public bool? AllowChange { get; set; }
}

/// <summary>Body of <c>POST /v1/polls/{id}/votes</c>.</summary>
public sealed class VoteRequest
{
    public int[]? OptionIds { get; set; }

    public string? VoterId { get; set; }
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

    public string? VoterId { get; set; }

    public string? IdempotencyKey { get; set; }
}
