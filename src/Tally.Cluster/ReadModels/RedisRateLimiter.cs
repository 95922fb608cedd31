using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tally.Limits;

namespace Tally.Cluster.ReadModels;

/// <summary>
/// Cluster mode's rate-limit buckets, shared by every node: one GCRA time stamp per bucket in Redis
/// (<c>{ns}:rl:{subject}:{bucket}</c>, microseconds on Redis's clock, so the nodes' clocks do not matter), expiring when
/// the bucket is full again, so Redis holds only buckets in use. One script per request checks every charge and takes
/// all or none: nodes never race, and a refused request takes nothing. While Redis is away, or slower than
/// <see cref="Patience"/>, this node limits on its own buckets in memory (<paramref name="fallback"/>) until it answers.
/// </summary>
internal sealed class RedisRateLimiter(IConnectionMultiplexer redis, ClusterOptions cluster, InMemoryRateLimiter fallback, ILogger logger) : IRateLimiter
{
    /// <summary>Longest wait for Redis before a request is limited by this node's own buckets.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(1);

    // KEYS: one per charge. ARGV: per charge count, interval (µs), capacity (µs). Returns {refusedAt (0: none, else
    // 1-based), wait (µs), then remaining and full-in (µs) per charge}. Lua numbers are doubles: microseconds since the
    // epoch (~1.8e15) and a bucket's capacity (at most 1e15) stay exact below 2^53.
    private const string TakeScript = """
        if redis.replicate_commands then redis.replicate_commands() end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local n = #KEYS
        local from, to = {}, {}
        local refused, wait = 0, 0
        for i = 1, n do
            local count = tonumber(ARGV[3 * i - 2])
            local interval = tonumber(ARGV[3 * i - 1])
            local capacity = tonumber(ARGV[3 * i])
            local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
            if tat < now then tat = now end
            from[i] = tat
            to[i] = tat + count * interval
            local over = to[i] - now - capacity
            if over > 0 then
                if refused == 0 then refused = i end
                if over > wait then wait = over end
            end
        end
        local out = {refused, wait}
        for i = 1, n do
            local interval = tonumber(ARGV[3 * i - 1])
            local capacity = tonumber(ARGV[3 * i])
            local at = from[i]
            if refused == 0 then
                at = to[i]
                redis.call('SET', KEYS[i], string.format('%.0f', at), 'PX', math.ceil((at - now) / 1000))
            end
            local remaining = math.floor((capacity - (at - now)) / interval)
            if remaining < 0 then remaining = 0 end
            out[#out + 1] = remaining
            out[#out + 1] = at - now
        end
        return out
        """;

    private int _failing;

    public async ValueTask<RateDecision> TakeAsync(ReadOnlyMemory<RateCharge> charges, CancellationToken cancellationToken)
    {
        if (!redis.IsConnected)
        {
            return Fallback(charges, "not connected");
        }

        var keys = new RedisKey[charges.Length];
        var args = new RedisValue[charges.Length * 3];
        for (var i = 0; i < keys.Length; i++)
        {
            var charge = charges.Span[i];
            keys[i] = $"{cluster.Namespace}:rl:{Tag(charge.Subject)}:{charge.Bucket:x32}";
            args[3 * i] = charge.Count;
            args[(3 * i) + 1] = Math.Max(1, charge.Rule.IntervalTicks / 10);
            args[(3 * i) + 2] = Math.Max(1, charge.Rule.IntervalTicks / 10) * charge.Rule.Burst;
        }

        RedisResult[] answer;
        try
        {
            answer = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(TakeScript, keys, args).WaitAsync(Patience, cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Fallback(charges, ex.Message);
        }

        if (Interlocked.Exchange(ref _failing, 0) == 1)
        {
            ClusterLog.RateLimitShared(logger);
        }

        var refusedAt = (int)(long)answer[0] - 1;
        var standings = new RateStanding[charges.Length];
        for (var i = 0; i < standings.Length; i++)
        {
            standings[i] = new RateStanding((long)answer[2 + (2 * i)], TimeSpan.FromTicks((long)answer[3 + (2 * i)] * 10));
        }

        return new RateDecision(refusedAt < 0, refusedAt, TimeSpan.FromTicks((long)answer[1] * 10), standings);
    }

    private RateDecision Fallback(ReadOnlyMemory<RateCharge> charges, string detail)
    {
        if (Interlocked.Exchange(ref _failing, 1) == 0)
        {
            ClusterLog.RateLimitLocal(logger, detail);
        }

        return fallback.Take(charges.Span);
    }

    private static string Tag(RateSubject subject) => subject switch
    {
        RateSubject.Ip => "ip",
        RateSubject.Voter => "v",
        RateSubject.Key => "k",
        RateSubject.JoinCode => "jc",
        _ => "nv",
    };
}
