using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tally.Projections;

namespace Tally.Cluster.ReadModels;

/// <summary>
/// Keeps each poll's latest results in Redis for other services to read: a hash <c>{ns}:results:{poll}</c>
/// (seq, status, totalVotes, question, and one field per option: <c>o{id}</c> votes, <c>t{id}</c> text) and
/// a sorted set <c>{ns}:ranking:{poll}</c> (options by votes). Each owner writes its partition's polls (one writer per partition), conflated:
/// at most one write per poll per tick, each guarded by seq in a script so an older state never overwrites a
/// newer one (two writers overlap for a moment during a hand-over). When Redis comes back empty (the
/// <c>{ns}:synced:{partition}</c> key is gone) every poll of the partition is written again from the owner's state, which the event log
/// rebuilt. Redis is not on the vote's path: while it is away, writes wait and acks do not.
/// </summary>
internal sealed class RedisReadModel(IConnectionMultiplexer redis, ClusterOptions options, PollCatalog catalog, int partition, ILogger logger) : RestartableLoop
{
    private const string WriteScript = """
        local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
        if tonumber(ARGV[1]) <= current then return 0 end
        redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'status', ARGV[2], 'totalVotes', ARGV[3], 'question', ARGV[4])
        redis.call('DEL', KEYS[2])
        for i = 5, #ARGV, 3 do
            redis.call('HSET', KEYS[1], 'o' .. ARGV[i], ARGV[i + 1], 't' .. ARGV[i], ARGV[i + 2])
            redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i])
        end
        return 1
        """;

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private readonly ConcurrentDictionary<string, byte> _dirty = new(StringComparer.Ordinal);
    public string ResultsKey(string pollId) => $"{options.Namespace}:results:{pollId}";

    public string RankingKey(string pollId) => $"{options.Namespace}:ranking:{pollId}";

    /// <summary>Present while Redis holds every poll of the partition (gone when Redis lost its data).</summary>
    public string SyncedKey => $"{options.Namespace}:synced:{partition}";

    protected override void OnStarting() => catalog.Published += OnPublished;

    protected override void OnStopping() => catalog.Published -= OnPublished;

    private void OnPublished(PollResults results) => _dirty.TryAdd(results.Poll.Id, 0);

    protected override async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(Tick);
        var failing = false;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await FlushAsync().ConfigureAwait(false);
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
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task FlushAsync()
    {
        var db = redis.GetDatabase();
        if (!await db.KeyExistsAsync(SyncedKey).ConfigureAwait(false))
        {
            // Redis is new or lost its data: write every poll from the read model, then say it is whole.
            foreach (var (results, _) in catalog.List(int.MaxValue, long.MaxValue))
            {
                _dirty.TryAdd(results.Poll.Id, 0);
            }

            await WriteDirtyAsync(db).ConfigureAwait(false);
            await db.StringSetAsync(SyncedKey, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).ConfigureAwait(false);
            return;
        }

        await WriteDirtyAsync(db).ConfigureAwait(false);
    }

    private async Task WriteDirtyAsync(IDatabase db)
    {
        var polls = _dirty.Keys.ToArray();
        if (polls.Length == 0)
        {
            return;
        }

        var writes = new List<Task>(polls.Length);
        foreach (var id in polls)
        {
            _dirty.TryRemove(id, out _);
            if (catalog.FindResults(id) is { } results)
            {
                writes.Add(db.ScriptEvaluateAsync(WriteScript, [ResultsKey(id), RankingKey(id)], Arguments(results)));
            }
        }

        try
        {
            await Task.WhenAll(writes).ConfigureAwait(false);
        }
        catch
        {
            foreach (var id in polls)
            {
                _dirty.TryAdd(id, 0); // written again on the next tick
            }

            throw;
        }
    }

    private static RedisValue[] Arguments(PollResults results)
    {
        var args = new RedisValue[4 + (3 * results.Counts.Count)];
        args[0] = results.Seq;
        args[1] = results.Status.ToString().ToLowerInvariant();
        args[2] = results.TotalVotes;
        args[3] = results.Poll.Question;
        for (var i = 0; i < results.Counts.Count; i++)
        {
            var option = results.Poll.Options[i];
            args[4 + (3 * i)] = option.Id.ToString(CultureInfo.InvariantCulture);
            args[5 + (3 * i)] = results.Counts[i];
            args[6 + (3 * i)] = option.Text;
        }

        return args;
    }
}
