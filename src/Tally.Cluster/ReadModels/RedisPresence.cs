using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Tally.Live;

namespace Tally.Cluster.ReadModels;

/// <summary>
/// Presence in Redis: each node keeps <c>{ns}:presence:{node}</c>, a hash of poll id → watchers on that node,
/// rewritten every <see cref="Interval"/> with a TTL of a few intervals, so a node that dies drops out within
/// seconds and one that stops cleanly drops out at once. A poll's watchers across the cluster are the sum of
/// its field over the nodes' hashes; the live nodes are the members of <c>{ns}:presence:nodes</c>, a sorted set
/// scored by each node's last write. After each write a node reads the other live nodes' counts of the polls
/// it streams and hands them to its hub, so the <c>watchers</c> of every snapshot and delta is the cluster's
/// total (it trails other nodes' changes by up to two intervals).
/// </summary>
internal sealed class RedisPresence(LiveHub hub, IConnectionMultiplexer redis, IOptions<ClusterOptions> options, ILogger<RedisPresence> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Ttl = Interval * 5;

    private string Key => KeyOf(options.Value.NodeId);

    private string NodesKey => $"{options.Value.Namespace}:presence:nodes";

    private string KeyOf(string node) => $"{options.Value.Namespace}:presence:{node}";

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var db = redis.GetDatabase();
            await db.KeyDeleteAsync(Key).ConfigureAwait(false);
            await db.SortedSetRemoveAsync(NodesKey, options.Value.NodeId).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            ClusterLog.RedisBehind(logger, ex.Message); // it expires by itself
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        var failing = false;
        do
        {
            try
            {
                var watched = hub.WatchedPolls().ToArray();
                await WriteAsync(watched).ConfigureAwait(false);
                await ReadElsewhereAsync(watched).ConfigureAwait(false);
                failing = false;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                if (!failing)
                {
                    ClusterLog.RedisBehind(logger, ex.Message);
                    failing = true;
                }
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Replaces this node's hash in one transaction (so readers never see half of it) and sets its TTL.</summary>
    private async Task WriteAsync((string PollId, int Watchers)[] watched)
    {
        var entries = watched.Select(p => new HashEntry(p.PollId, p.Watchers)).ToArray();
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.KeyDeleteAsync(Key);
        if (entries.Length > 0)
        {
            _ = transaction.HashSetAsync(Key, entries);
            _ = transaction.KeyExpireAsync(Key, Ttl);
        }

        _ = transaction.SortedSetAddAsync(NodesKey, options.Value.NodeId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await transaction.ExecuteAsync().ConfigureAwait(false);
    }

    /// <summary>Sums the other live nodes' watchers of each poll this node streams and hands the sums to the hub.</summary>
    private async Task ReadElsewhereAsync((string PollId, int Watchers)[] watched)
    {
        if (watched.Length == 0)
        {
            return;
        }

        var db = redis.GetDatabase();
        var liveSince = DateTimeOffset.UtcNow.Add(-Ttl).ToUnixTimeMilliseconds();
        await db.SortedSetRemoveRangeByScoreAsync(NodesKey, double.NegativeInfinity, liveSince, Exclude.Stop).ConfigureAwait(false);
        var others = (await db.SortedSetRangeByScoreAsync(NodesKey, liveSince).ConfigureAwait(false))
            .Select(n => (string)n!)
            .Where(n => n != options.Value.NodeId)
            .ToArray();
        var fields = watched.Select(p => (RedisValue)p.PollId).ToArray();
        var counts = await Task.WhenAll(others.Select(node => db.HashGetAsync(KeyOf(node), fields))).ConfigureAwait(false);
        for (var i = 0; i < watched.Length; i++)
        {
            var elsewhere = 0L;
            foreach (var node in counts)
            {
                elsewhere += node[i].TryParse(out long n) ? n : 0;
            }

            hub.SetWatchersElsewhere(watched[i].PollId, (int)Math.Min(elsewhere, int.MaxValue));
        }
    }
}
