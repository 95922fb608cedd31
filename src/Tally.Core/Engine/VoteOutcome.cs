using Tally.Polls;

namespace Tally.Engine;

/// <summary>The answer to a <see cref="CastVote"/>. Only outcomes that are not rejected were made durable.</summary>
/// <param name="Replayed">True when this is the first answer returned again for a retried idempotency key.</param>
public readonly record struct VoteOutcome(VoteStatus Status, string? VoteId, long Seq, Rejection? Rejection, bool Replayed = false)
{
    public static VoteOutcome Rejected(Rejection rejection) => new(VoteStatus.Rejected, null, 0, rejection);
}
