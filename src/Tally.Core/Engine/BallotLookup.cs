namespace Tally.Engine;

/// <summary>Whether a voter has a ballot on a poll, and its options (what <c>afterVote</c> results visibility asks).</summary>
public sealed record BallotLookup(bool Voted, int[]? OptionIds)
{
    public static BallotLookup None { get; } = new(false, null);
}
