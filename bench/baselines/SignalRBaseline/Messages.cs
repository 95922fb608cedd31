namespace SignalRBaseline;

internal sealed class CreatePollRequest
{
    public string? Question { get; set; }

    public string[]? Options { get; set; }
}

internal sealed record CreatedPoll(string Id);

internal sealed class VoteRequest
{
    public int[]? OptionIds { get; set; }

    public string? VoterId { get; set; }
}

internal sealed record VoteResponse(string VoteId, long Seq, string Status);

/// <summary>A poll's whole results: what a vote broadcasts to the poll's group and <c>GET /results</c> answers.</summary>
internal sealed record ResultsMessage(string Type, string PollId, long Seq, long TotalVotes, OptionVotes[] Options);

internal sealed record OptionVotes(int Id, long Votes);
