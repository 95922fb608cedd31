using System.Collections.Concurrent;
using Tally.Engine;
using Tally.Metrics;
using Tally.Projections;

namespace Tally.Live;

/// <summary>
/// Local subscriptions and fan-out, sharded by poll id: each shard's loop conflates its polls' changes
/// into deltas and hands each message, encoded once per wire format, to every watcher's queue.
/// Transports plug in as <see cref="LiveConnection"/>s.
/// </summary>
public sealed class LiveHub : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, PollStream> _streams = new(StringComparer.Ordinal);
    private readonly PollCatalog _catalog;
    private readonly LiveOptions _options;
    private readonly PublisherShard[] _shards;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TimeProvider _time;
    private ITimer? _sweeper;
    private readonly bool _ownsMetrics;
    private bool _started;
    private int _stopped;

    /// <param name="metrics">Where the hub counts (the host's); without it the hub makes its own and disposes it.</param>
    public LiveHub(PollCatalog catalog, LiveOptions options, TimeProvider? time = null, TallyMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Failures() is { Count: > 0 } failures)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        _catalog = catalog;
        _options = options;
        _time = time ?? TimeProvider.System;
        _ownsMetrics = metrics is null;
        Metrics = metrics ?? new TallyMetrics();
        Metrics.Track(this);
        _shards = new PublisherShard[options.Shards];
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new PublisherShard(_time, options.Tick, options.PresenceInterval, ex => Faulted?.Invoke("publisher", ex));
        }

        // Attached before the engine starts, every committed change (recovery included) reaches a stream.
        catalog.Published += OnPublished;
    }

    /// <summary>Raised on a fault the hub survives; the host logs it.</summary>
    public event Action<string, Exception>? Faulted;

    public LiveOptions Options => _options;

    /// <summary>The instruments this hub and its transports record to.</summary>
    public TallyMetrics Metrics { get; }

    /// <summary>Fires when the host begins to shut down: transports end their watchers' streams.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>Asks every transport to end its watchers' streams (the host is stopping).</summary>
    public void BeginShutdown()
    {
        if (Volatile.Read(ref _stopped) == 0)
        {
            _closing.Cancel();
        }
    }

    /// <summary>Deltas sent over all shards since start.</summary>
    public long DeltasSent => _shards.Sum(s => s.DeltasSent);

    public void Start()
    {
        if (_started)
        {
            return;
        }

        _started = true;
        foreach (var shard in _shards)
        {
            shard.Start(_stopping.Token);
        }

        var sweep = _options.IdleStreamTimeout / 2;
        _sweeper = _time.CreateTimer(static state => ((LiveHub)state!).RetireIdleStreams(), this, sweep, sweep);
    }

    /// <summary>Subscriptions to every poll on this node (a gauge: it takes each stream's lock in turn).</summary>
    public int TotalWatchers => _streams.Values.Sum(s => s.WatcherCount);

    /// <summary>Watchers of a poll on this node.</summary>
    public int WatcherCount(string pollId) => _streams.TryGetValue(pollId, out var stream) ? stream.WatcherCount : 0;

    /// <summary>Sets the poll's watchers on other nodes (cluster mode), added to the count its messages carry; nothing when the poll has no stream here.</summary>
    public void SetWatchersElsewhere(string pollId, int count)
    {
        if (_streams.TryGetValue(pollId, out var stream))
        {
            stream.SetWatchersElsewhere(count);
        }
    }

    /// <summary>True while the hub keeps a stream of the poll (watched now, or changed or watched within <see cref="LiveOptions.IdleStreamTimeout"/>).</summary>
    public bool HasStream(string pollId) => _streams.ContainsKey(pollId);

    /// <summary>Every poll watched on this node now, with its watcher count (a moment's view, for presence elsewhere).</summary>
    public IEnumerable<(string PollId, int Watchers)> WatchedPolls()
    {
        foreach (var (pollId, stream) in _streams)
        {
            if (stream.WatcherCount is > 0 and var watchers)
            {
                yield return (pollId, watchers);
            }
        }
    }

    /// <summary>Subscribes <paramref name="connection"/> to a poll; false when there is no such poll.</summary>
    public bool Subscribe(LiveConnection connection, string pollId, long? since)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(pollId);
        if (StreamOf(pollId) is not { } stream)
        {
            return false;
        }

        connection.Metrics = Metrics;
        while (connection.Add(pollId, stream))
        {
            if (stream.Subscribe(connection, since))
            {
                break;
            }

            // Retired by the sweep just now: drop it and start a fresh stream from the current results.
            connection.Remove(pollId);
            _streams.TryRemove(KeyValuePair.Create(pollId, stream));
            if (StreamOf(pollId) is not { } fresh)
            {
                return false;
            }

            stream = fresh;
        }

        return true;
    }

    public void Unsubscribe(LiveConnection connection, string pollId)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (connection.Remove(pollId) is { } stream)
        {
            stream.Unsubscribe(connection);
        }
    }

    /// <summary>Stops the publisher loops (idempotent).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        _catalog.Published -= OnPublished;
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync().ConfigureAwait(false);
        }

        Metrics.Untrack(this);
        await _closing.CancelAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_shards.Select(s => s.StopAsync())).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _closing.Dispose();
        if (_ownsMetrics)
        {
            Metrics.Dispose();
        }
    }

    /// <summary>The poll's stream if it has one (tests look at its scheduling).</summary>
    internal PollStream? FindStream(string pollId) => _streams.GetValueOrDefault(pollId);

    private PollStream? StreamOf(string pollId)
    {
        if (_streams.TryGetValue(pollId, out var stream))
        {
            return stream;
        }

        if (_catalog.FindResults(pollId) is not { } current)
        {
            return null;
        }

        stream = _streams.GetOrAdd(pollId, id => new PollStream(current, ShardOf(id), _options.HistoryLength, Metrics));

        // A change published while the stream was being made may have gone to a stream the sweep retired:
        // the catalog has it, and a stream takes results only forward.
        stream.OnChanged(_catalog.FindResults(pollId)!);
        return stream;
    }

    /// <summary>Drops the streams nobody watched and nothing changed for <see cref="LiveOptions.IdleStreamTimeout"/>.</summary>
    private void RetireIdleStreams()
    {
        var now = _time.GetTimestamp();
        var timeout = (long)(_options.IdleStreamTimeout.TotalSeconds * _time.TimestampFrequency);
        foreach (var (pollId, stream) in _streams)
        {
            if (stream.TryRetire(now, timeout))
            {
                _streams.TryRemove(KeyValuePair.Create(pollId, stream));
            }
        }
    }

    private void OnPublished(PollResults results)
    {
        if (_streams.TryGetValue(results.Poll.Id, out var stream))
        {
            stream.OnChanged(results);
            return;
        }

        // The first results seen of a poll (its creation, or recovery) start its stream; nobody watches it yet.
        var created = _streams.GetOrAdd(results.Poll.Id, id => new PollStream(results, ShardOf(id), _options.HistoryLength, Metrics));
        created.OnChanged(results);
    }

    private PublisherShard ShardOf(string pollId) => _shards[TallyEngine.PartitionIndex(pollId, _shards.Length)];
}
