namespace Tally.Limits;

/// <summary>
/// The token buckets every rate limit takes from (a port: embedded mode's <see cref="InMemoryRateLimiter"/>, cluster
/// mode's in Redis so that the nodes share them). Both use GCRA (<see cref="Gcra"/>): a bucket is one time stamp,
/// and a bucket that is full again needs no state at all, so memory stays bounded.
/// </summary>
public interface IRateLimiter
{
    /// <summary>Takes every charge, or none of them when one does not fit.</summary>
    ValueTask<RateDecision> TakeAsync(ReadOnlyMemory<RateCharge> charges, CancellationToken cancellationToken);
}
