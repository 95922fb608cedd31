using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tally.Limits;

namespace Tally.Cluster.ReadModels;

/// <summary>
/// Cluster mode's vote rate limit: one counter per client in Redis (<c>{ns}:limit:{client}</c>), a fixed window
/// from the client's first vote in it, shared by every node, so a client spreading its votes over the nodes
/// gets the same allowance as on one. Taking and refusing is one script, so nodes never race; a refused
/// request takes nothing. While Redis is away the limit is not enforced (votes are not refused for it).
/// </summary>
internal sealed class RedisVoteRateLimiter(IConnectionMultiplexer redis, ClusterOptions cluster, RateLimitOptions options, ILogger logger) : IVoteRateLimiter
{
    // KEYS[1] the client's counter; ARGV: votes, window (ms), limit. Returns -1 when taken, else ms until the window ends.
    private const string TakeScript = """
        local n = redis.call('INCRBY', KEYS[1], ARGV[1])
        if n == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        if n > tonumber(ARGV[3]) then
            redis.call('DECRBY', KEYS[1], ARGV[1])
            local left = redis.call('PTTL', KEYS[1])
            if left < 0 then left = tonumber(ARGV[2]) end
            return left
        end
        return -1
        """;

    private int _failing;

    public async ValueTask<TimeSpan?> TryTakeAsync(string client, int votes, CancellationToken cancellationToken)
    {
        if (votes > options.Votes)
        {
            return options.Window; // more than a whole window allows: never
        }

        try
        {
            var left = (long)await redis.GetDatabase().ScriptEvaluateAsync(
                TakeScript,
                [(RedisKey)$"{cluster.Namespace}:limit:{client}"],
                [votes, (long)options.Window.TotalMilliseconds, options.Votes]).ConfigureAwait(false);
            Interlocked.Exchange(ref _failing, 0);
            return left < 0 ? null : TimeSpan.FromMilliseconds(left);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            if (Interlocked.Exchange(ref _failing, 1) == 0)
            {
                ClusterLog.RateLimitUnenforced(logger, ex.Message);
            }

            return null;
        }
    }
}
