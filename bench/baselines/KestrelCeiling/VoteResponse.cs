namespace KestrelCeiling;

/// <summary>The answer to a vote, shaped like Tally's.</summary>
internal sealed record VoteResponse(string VoteId, long Seq, string Status);
