namespace KestrelCeiling;

/// <summary>A poll's whole results, the one message the broadcaster sends (and <c>GET /results</c> answers).</summary>
internal sealed record ResultsMessage(string Type, string PollId, long Seq, long TotalVotes, OptionVotes[] Options);

internal sealed record OptionVotes(int Id, long Votes);
