namespace Tally.Engine;

/// <summary>The answer to an erasure: whether the voter had a ballot (now erased), the poll's seq after it, and the ballot's vote id.</summary>
public sealed record VoterErasure(bool Erased, long Seq, string? VoteId);
