using Tally.Polls;

namespace Tally.Engine;

/// <summary>
/// The answer to <see cref="ITallyEngine.CastVotesAsync"/>, the same in every engine. Ballots are admitted per
/// partition share: a share whose partition cannot take it now (its queue is full, it is stopping, it has no owner)
/// has each of its ballots answered <c>rejected</c> with that refusal while the other shares count. Only when nothing
/// of the batch counted and every ballot was refused that way (<see cref="RejectionKind.Overloaded"/> or
/// <see cref="RejectionKind.Unavailable"/>) is the batch refused as a whole, with that refusal.
/// </summary>
public static class BatchOutcome
{
    /// <summary>
    /// The per-ballot <paramref name="outcomes"/>, or the refusal of the whole batch when every one is an
    /// overloaded or unavailable rejection (the first overloaded one when there is one, so that the answer says
    /// when to retry; else the first). An empty batch is answered as it is.
    /// </summary>
    public static Outcome<VoteOutcome[]> From(VoteOutcome[] outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        Rejection? whole = null;
        foreach (var outcome in outcomes)
        {
            if (outcome.Rejection is not { Kind: RejectionKind.Overloaded or RejectionKind.Unavailable } refused)
            {
                return outcomes;
            }

            if (whole is null || (whole.Kind != RejectionKind.Overloaded && refused.Kind == RejectionKind.Overloaded))
            {
                whole = refused;
            }
        }

        return whole is null ? outcomes : whole;
    }
}
