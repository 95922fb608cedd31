namespace Tally.Limits;

/// <summary>
/// How many votes one client (an IP address) may cast per window, over every transport. Embedded mode keeps
/// the counts in memory; cluster mode keeps them in Redis, so the limit holds across nodes.
/// </summary>
public interface IVoteRateLimiter
{
    /// <summary>Takes <paramref name="votes"/> from the client's allowance: null when granted, else how long until it may try again.</summary>
    ValueTask<TimeSpan?> TryTakeAsync(string client, int votes, CancellationToken cancellationToken);
}

/// <summary>No limit (the default: <see cref="RateLimitOptions.Votes"/> is 0).</summary>
public sealed class NoVoteRateLimit : IVoteRateLimiter
{
    public static readonly NoVoteRateLimit Instance = new();

    public ValueTask<TimeSpan?> TryTakeAsync(string client, int votes, CancellationToken cancellationToken) => ValueTask.FromResult<TimeSpan?>(null);
}
