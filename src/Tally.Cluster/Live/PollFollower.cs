using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Tally.Cluster.Engine;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Cluster.Live;

/// <summary>
/// A node's side of cross-node fan-out: the polls its watchers follow, and only those. Following a poll
/// subscribes to <c>{ns}.live.{pollId}</c> first, then fetches the poll's results from its partition's owner,
/// so no update falls between the two; every update carries absolute counts, so the node's <see cref="PollCatalog"/>
/// (which its live hub streams) takes whichever state is newest by seq. A node that reconnects to NATS fetches
/// every followed poll again (core NATS drops what a disconnected subscriber missed). A poll is unfollowed once
/// the live hub has had no stream of it for <see cref="ClusterOptions.UnfollowAfter"/>.
/// </summary>
internal sealed class PollFollower : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Followed> _followed = new(StringComparer.Ordinal);
    private readonly INatsConnection _nats;
    private readonly ClusterOptions _options;
    private readonly PollCatalog _catalog;
    private readonly Func<string, CancellationToken, ValueTask<Outcome<PollResults>>> _fetch;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _sweeper;
    private long _positions;

    /// <param name="fetch">The poll's committed results from its partition's owner.</param>
    public PollFollower(INatsConnection nats, ClusterOptions options, PollCatalog catalog, Func<string, CancellationToken, ValueTask<Outcome<PollResults>>> fetch, TimeProvider time, ILogger logger)
    {
        _nats = nats;
        _options = options;
        _catalog = catalog;
        _fetch = fetch;
        _time = time;
        _logger = logger;
        var sweep = options.UnfollowAfter / 2;
        _sweeper = time.CreateTimer(static state => ((PollFollower)state!).Sweep(), this, sweep, sweep);
        nats.ConnectionOpened += OnReconnectedAsync;
    }

    /// <summary>Whether the live hub still streams a poll (set by the host; until then nothing is unfollowed).</summary>
    public Func<string, bool> IsStreamed { get; set; } = static _ => true;

    /// <summary>The polls followed now.</summary>
    public int Count => _followed.Count;

    public bool IsFollowing(string pollId) => _followed.ContainsKey(pollId);

    /// <summary>Follows the poll (once; later calls wait for the first) and returns its definition once the catalog holds its results.</summary>
    public async ValueTask<Outcome<PollDefinition>> FollowAsync(string pollId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var followed = _followed.GetOrAdd(pollId, static id => new Followed(id));
            followed.Touch(_time.GetTimestamp());
            var outcome = await followed.Ready(StartAsync).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (outcome.Rejection is not null)
            {
                await UnfollowAsync(followed).ConfigureAwait(false); // the next watcher asks again
                return outcome;
            }

            if (!followed.Ended)
            {
                return outcome;
            }

            // Unfollowed by the sweep just now: follow again.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _nats.ConnectionOpened -= OnReconnectedAsync;
        await _sweeper.DisposeAsync().ConfigureAwait(false);
        foreach (var followed in _followed.Values)
        {
            await UnfollowAsync(followed).ConfigureAwait(false);
        }
    }

    private async Task<Outcome<PollDefinition>> StartAsync(Followed followed)
    {
        try
        {
            var subscription = await _nats.SubscribeCoreAsync<byte[]>(_options.LiveSubject(followed.PollId)).ConfigureAwait(false);
            followed.Subscription = subscription;
            followed.Reading = Task.Run(() => ReadAsync(followed, subscription), CancellationToken.None);
        }
        catch (NatsException ex)
        {
            return new Rejection(RejectionKind.Unavailable, $"This node cannot follow the poll's updates now (NATS: {ex.Message}). Retry.");
        }

        var fetched = await _fetch(followed.PollId, CancellationToken.None).ConfigureAwait(false);
        if (fetched.Value is not { } results)
        {
            return fetched.Rejection!;
        }

        Apply(followed, results);
        return results.Poll;
    }

    private async Task ReadAsync(Followed followed, INatsSub<byte[]> subscription)
    {
        await foreach (var message in subscription.Msgs.ReadAllAsync().ConfigureAwait(false))
        {
            LiveUpdate update;
            try
            {
                update = ForwardedJson.Decode<LiveUpdate>(message.Data);
            }
            catch (Exception ex)
            {
                ClusterLog.LiveUpdateUnreadable(_logger, followed.PollId, ex);
                _ = RefreshAsync(followed);
                continue;
            }

            lock (followed)
            {
                if (_catalog.FindResults(followed.PollId) is { } current && followed.Known)
                {
                    if (update.Seq > current.Seq && update.Counts.Count == current.Counts.Count)
                    {
                        _catalog.Publish(update.Onto(current), Interlocked.Increment(ref _positions));
                    }
                }
                else if (followed.Early is null || update.Seq > followed.Early.Seq)
                {
                    followed.Early = update; // before the fetch answered: applied after it, when newer
                }
            }
        }
    }

    /// <summary>Takes fetched results when they are newer than what the catalog has (the first fetch always).</summary>
    private void Apply(Followed followed, PollResults results)
    {
        lock (followed)
        {
            var current = _catalog.FindResults(followed.PollId);
            if (current is null || results.Seq > current.Seq)
            {
                _catalog.Publish(results, Interlocked.Increment(ref _positions));
                current = results;
            }

            followed.Known = true;
            if (followed.Early is { } early && early.Seq > current.Seq)
            {
                _catalog.Publish(early.Onto(current), Interlocked.Increment(ref _positions));
            }

            followed.Early = null;
        }
    }

    private async Task RefreshAsync(Followed followed)
    {
        var fetched = await _fetch(followed.PollId, CancellationToken.None).ConfigureAwait(false);
        if (fetched.Value is { } results)
        {
            Apply(followed, results);
        }
    }

    private ValueTask OnReconnectedAsync(object? sender, NatsEventArgs args)
    {
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.WhenAll(_followed.Values.Where(f => f.Known).Select(RefreshAsync)).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                ClusterLog.FollowRefreshFailed(_logger, ex);
            }
        });
        return ValueTask.CompletedTask;
    }

    private void Sweep()
    {
        var now = _time.GetTimestamp();
        foreach (var followed in _followed.Values)
        {
            if (!IsStreamed(followed.PollId) && _time.GetElapsedTime(followed.LastTouched, now) > _options.UnfollowAfter)
            {
                _ = UnfollowAsync(followed);
            }
        }
    }

    private async Task UnfollowAsync(Followed followed)
    {
        if (!_followed.TryRemove(KeyValuePair.Create(followed.PollId, followed)))
        {
            return; // another caller ends it
        }

        followed.Ended = true;
        if (followed.Subscription is { } subscription)
        {
            try
            {
                await subscription.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (NatsException)
            {
                // The connection is gone, and the subscription with it.
            }
        }

        await followed.Reading.ConfigureAwait(false);
    }

    private sealed class Followed(string pollId)
    {
        private Task<Outcome<PollDefinition>>? _ready;
        private long _lastTouched;

        public string PollId { get; } = pollId;

        public INatsSub<byte[]>? Subscription { get; set; }

        public Task Reading { get; set; } = Task.CompletedTask;

        /// <summary>The catalog holds the fetched results (updates apply on top of them).</summary>
        public bool Known { get; set; }

        /// <summary>The newest update that came before the fetch's answer.</summary>
        public LiveUpdate? Early { get; set; }

        public volatile bool Ended;

        public long LastTouched => Interlocked.Read(ref _lastTouched);

        public void Touch(long now) => Interlocked.Exchange(ref _lastTouched, now);

        /// <summary>The one start of this follow: the first caller's <paramref name="start"/>, shared by all.</summary>
        public Task<Outcome<PollDefinition>> Ready(Func<Followed, Task<Outcome<PollDefinition>>> start)
        {
            if (Volatile.Read(ref _ready) is { } ready)
            {
                return ready;
            }

            lock (this)
            {
                return _ready ??= start(this);
            }
        }
    }
}
