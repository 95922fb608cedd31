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
/// its field over the nodes' hashes. Like the other read models it is for other services; the live messages
/// of each node carry that node's own count.
/// </summary>
internal sealed class RedisPresence(LiveHub hub, IConnectionMultiplexer redis, IOptions<ClusterOptions> options, ILogger<RedisPresence> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Ttl = Interval * 5;

    private string Key => $"{options.Value.Namespace}:presence:{options.Value.NodeId}";

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await redis.GetDatabase().KeyDeleteAsync(Key).ConfigureAwait(false);
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
                await WriteAsync().ConfigureAwait(false);
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
    private async Task WriteAsync()
    {
        var entries = hub.WatchedPolls().Select(p => new HashEntry(p.PollId, p.Watchers)).ToArray();
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.KeyDeleteAsync(Key);
        if (entries.Length > 0)
        {
            _ = transaction.HashSetAsync(Key, entries);
            _ = transaction.KeyExpireAsync(Key, Ttl);
        }

        await transaction.ExecuteAsync().ConfigureAwait(false);
    }
}
