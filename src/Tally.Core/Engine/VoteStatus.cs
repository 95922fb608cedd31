namespace Tally.Engine;

/// <summary>What happened to a ballot.</summary>
public enum VoteStatus
{
    /// <summary>A new ballot was counted.</summary>
    Counted,

    /// <summary>The voter's earlier ballot was replaced (polls with <c>allowChange</c>).</summary>
    Changed,

    /// <summary>Refused; see <see cref="VoteOutcome.Rejection"/>.</summary>
    Rejected,
}
