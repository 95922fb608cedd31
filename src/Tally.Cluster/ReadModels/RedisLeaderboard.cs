using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Cluster.ReadModels;

/// <summary>
/// Each event's leaderboard in Redis, written by the owner of the event's partition: a sorted set <c>{ns}:leaderboard:{event}</c>
/// of voter ids scored by <see cref="Rank"/> (score first, then who reached it first) and a hash <c>{ns}:standing:{event}</c> of
/// each participant's name, score, streak, correct and answered, for other services (a stage display, a prize desk) to read with
/// <c>ZREVRANGE</c> and <c>ZREVRANK</c>; the API answers from the owner's own board, exactly. Fed by each publication's changed participants
/// (<see cref="EventView.Changed"/>), conflated per tick; when Redis comes back empty (<c>{ns}:leaderboards:{partition}</c> is
/// gone) every event of the partition is written again from the owner's state, which the event log rebuilt. Not on the vote's path.
/// </summary>
internal sealed class RedisLeaderboard(IConnectionMultiplexer redis, ClusterOptions options, TallyEngine engine, int partition, ILogger logger) : RestartableLoop
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, LeaderboardEntry>> _dirty = new(StringComparer.Ordinal);

    public static string BoardKey(ClusterOptions options, string eventId) => $"{options.Namespace}:leaderboard:{eventId}";

    public static string StandingKey(ClusterOptions options, string eventId) => $"{options.Namespace}:standing:{eventId}";

    /// <summary>Present while Redis holds every leaderboard of the partition.</summary>
    public static string SyncedKey(ClusterOptions options, int partition) => $"{options.Namespace}:leaderboards:{partition}";

    /// <summary>
    /// The sorted set's score: points × 2^31 plus (2^31 − 1 − the seq that reached them), exact in a double for points below
    /// 2^21 and seqs below 2^31, so a higher score ranks first and, at equal points, the earlier seq does.
    /// </summary>
    public static double Rank(long score, long reachedSeq) =>
        (Math.Min(score, (1L << 21) - 1) * (double)(1L << 31)) + ((1L << 31) - 1 - Math.Min(reachedSeq, (1L << 31) - 1));

    /// <summary>A standing's hash value: name, score, streak, correct, answered, reached seq (tab-separated; names hold no tabs).</summary>
    public static string Format(LeaderboardEntry e) =>
        string.Join('\t', e.Name, e.Score.ToString(CultureInfo.InvariantCulture), e.Streak.ToString(CultureInfo.InvariantCulture),
            e.Correct.ToString(CultureInfo.InvariantCulture), e.Answered.ToString(CultureInfo.InvariantCulture), e.ReachedSeq.ToString(CultureInfo.InvariantCulture));

    public static LeaderboardEntry Parse(int rank, string voterId, string value)
    {
        var f = value.Split('\t');
        return new LeaderboardEntry(
            rank, voterId, f[0], long.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture),
            int.Parse(f[3], CultureInfo.InvariantCulture), int.Parse(f[4], CultureInfo.InvariantCulture), long.Parse(f[5], CultureInfo.InvariantCulture));
    }

    protected override void OnStarting() => engine.Catalog.Published += OnPublished;

    protected override void OnStopping() => engine.Catalog.Published -= OnPublished;

    private void OnPublished(PollResults results)
    {
        if (results.Event is not { Changed: { Count: > 0 } changed })
        {
            return;
        }

        var board = _dirty.GetOrAdd(results.Poll.Id, static _ => new ConcurrentDictionary<string, LeaderboardEntry>(StringComparer.Ordinal));
        foreach (var entry in changed)
        {
            board[entry.VoterId] = entry; // the latest standing wins: publications come in seq order
        }
    }

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
                    await FlushAsync(stopping).ConfigureAwait(false);
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

    private async Task FlushAsync(CancellationToken stopping)
    {
        var db = redis.GetDatabase();
        var synced = SyncedKey(options, partition);
        if (!await db.KeyExistsAsync(synced).ConfigureAwait(false))
        {
            // Redis is new or lost its data: every event's whole board from the owner's state, then say it is whole.
            foreach (var (results, _) in engine.Catalog.List(int.MaxValue, long.MaxValue))
            {
                if (results.Event is { Participants: > 0 } view)
                {
                    var all = await engine.GetLeadersAsync(results.Poll.Id, view.Participants, stopping).ConfigureAwait(false);
                    var board = _dirty.GetOrAdd(results.Poll.Id, static _ => new ConcurrentDictionary<string, LeaderboardEntry>(StringComparer.Ordinal));
                    foreach (var entry in all.Value ?? [])
                    {
                        board.TryAdd(entry.VoterId, entry); // a newer standing published meanwhile is kept
                    }
                }
            }

            await WriteDirtyAsync(db).ConfigureAwait(false);
            await db.StringSetAsync(synced, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()).ConfigureAwait(false);
            return;
        }

        await WriteDirtyAsync(db).ConfigureAwait(false);
    }

    private async Task WriteDirtyAsync(IDatabase db)
    {
        foreach (var eventId in _dirty.Keys.ToArray())
        {
            if (!_dirty.TryRemove(eventId, out var board) || board.IsEmpty)
            {
                continue;
            }

            var entries = board.Values.ToArray();
            try
            {
                var batch = db.CreateBatch();
                var ranked = batch.SortedSetAddAsync(BoardKey(options, eventId), [.. entries.Select(e => new SortedSetEntry(e.VoterId, Rank(e.Score, e.ReachedSeq)))]);
                var standing = batch.HashSetAsync(StandingKey(options, eventId), [.. entries.Select(e => new HashEntry(e.VoterId, Format(e)))]);
                batch.Execute();
                await Task.WhenAll(ranked, standing).ConfigureAwait(false);
            }
            catch
            {
                var again = _dirty.GetOrAdd(eventId, static _ => new ConcurrentDictionary<string, LeaderboardEntry>(StringComparer.Ordinal));
                foreach (var entry in entries)
                {
                    again.TryAdd(entry.VoterId, entry); // written on the next tick, unless a newer standing came meanwhile
                }

                throw;
            }
        }
    }
}
