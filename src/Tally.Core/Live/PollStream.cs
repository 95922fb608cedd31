using Tally.Metrics;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Live;

/// <summary>
/// One poll's live stream: its watchers, the results last sent to them, and a bounded history of
/// deltas for resume. Changes arrive from the engine (any thread) as "latest results"; the shard's
/// loop turns them into at most one delta per tick. What a message says (its seq, the history, the
/// snapshot a new watcher gets) is decided under one lock; the fan-out of a delta to the watchers then
/// runs outside it, over the watchers as they were when the delta was made, so a subscribe, an
/// unsubscribe or a presence change never waits for a whole fan-out. Such a fan-out may still offer its
/// delta to a connection that resubscribed meanwhile, before or among what the new subscription gets (a
/// snapshot, or the deltas after its <c>since</c>): the connection writes a delta only when it continues
/// what the watcher has (see <see cref="LiveConnection"/>), so a watcher never misses or doubles a change.
/// </summary>
internal sealed class PollStream
{
    private readonly Lock _gate = new();

    // Held by a flush from the moment it decides a delta until its fan-out ends (before _gate, never after):
    // fan-outs of one stream never overlap, so every watcher gets the stream's messages in seq order.
    private readonly Lock _fanOut = new();
    private readonly HashSet<LiveConnection> _watchers = [];
    private LiveConnection[] _fanOutTo = [];
    private bool _fanOutStale;
    private readonly LiveMessage?[] _history;
    private readonly PublisherShard _shard;
    private readonly TallyMetrics? _metrics;
    private PollResults _sent;
    private PollResults _latest;
    private int _historyStart;
    private int _historyCount;
    private int _sentWatchers;
    private int _elsewhere;
    private bool _closedSent;
    private bool _retired;
    private long _idleSince;
    private LiveMessage? _snapshot;
    private int _dirty;

    public PollStream(PollResults current, PublisherShard shard, int historyLength, TallyMetrics? metrics = null)
    {
        _metrics = metrics;
        _sent = _latest = current;
        _shard = shard;
        _history = new LiveMessage?[historyLength];
        _closedSent = current.Status == PollStatus.Closed;
    }

    public string PollId => _sent.Poll.Id;

    /// <summary>When the next delta may go out (a timestamp of the shard's clock).</summary>
    public long NextAllowed { get; set; }

    /// <summary>When the stream is due in the shard's queue; <see cref="long.MaxValue"/> when it is not there.</summary>
    public long ScheduledAt { get; set; } = long.MaxValue;

    /// <summary>True while the stream waits in the shard's due queue.</summary>
    public bool IsScheduled => ScheduledAt != long.MaxValue;

    /// <summary>When a delta that only changes the watcher count may go out (a timestamp of the shard's clock).</summary>
    public long PresenceAllowedAt { get; private set; }

    /// <summary>The seq of the results last sent to watchers.</summary>
    public long SentSeq => Volatile.Read(ref _sent).Seq;

    public int WatcherCount
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    /// <summary>
    /// Watchers of this poll on other nodes (cluster mode reads them from Redis presence): the count in
    /// snapshots and deltas is this node's watchers plus these, so every screen shows the cluster's total.
    /// </summary>
    public void SetWatchersElsewhere(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            if (_elsewhere != count)
            {
                _elsewhere = count;
                MarkDirty();
            }
        }
    }

    /// <summary>The watcher count messages carry: this node's watchers and those elsewhere.</summary>
    private int PresenceLocked => _watchers.Count + _elsewhere;

    /// <summary>The engine committed new results (called on a partition's thread; never blocks).</summary>
    public void OnChanged(PollResults results)
    {
        // Never back: the hub may also hand over results it read from the catalog (see LiveHub.StreamOf).
        var current = Volatile.Read(ref _latest);
        while (results.Seq > current.Seq)
        {
            var seen = Interlocked.CompareExchange(ref _latest, results, current);
            if (ReferenceEquals(seen, current))
            {
                MarkDirty();
                return;
            }

            current = seen;
        }
    }

    /// <summary>Called by the shard when it takes the stream from its dirty queue.</summary>
    public void ClearDirty() => Volatile.Write(ref _dirty, 0);

    /// <summary>Sends what changed, now (tests; the shard passes its clock and presence interval).</summary>
    public bool Flush() => Flush(long.MaxValue, 0) == FlushResult.Sent;

    /// <summary>
    /// Sends what changed since the last message: a delta (absolute counts of changed options, the
    /// watcher count if it changed), then <c>closed</c> if the poll just closed. A change of the watcher
    /// count alone waits until <see cref="PresenceAllowedAt"/> (<paramref name="presenceInterval"/> after
    /// the last one sent).
    /// </summary>
    public FlushResult Flush(long now, long presenceInterval)
    {
        lock (_fanOut)
        {
            LiveConnection[] watchers;
            LiveMessage delta;
            LiveMessage? closed;
            lock (_gate)
            {
                var result = DecideLocked(now, presenceInterval, out delta, out closed);
                if (result != FlushResult.Sent)
                {
                    return result;
                }

                watchers = FanOutTargetsLocked();
            }

            Broadcast(watchers, delta);
            if (closed is not null)
            {
                Broadcast(watchers, closed);
            }

            return FlushResult.Sent;
        }
    }

    /// <summary>Under the lock: the delta to send now (and "closed" after it when the poll just closed), or why there is none.</summary>
    private FlushResult DecideLocked(long now, long presenceInterval, out LiveMessage delta, out LiveMessage? closed)
    {
        delta = null!;
        closed = null;
        var latest = Volatile.Read(ref _latest);
        if (latest.Seq < _sent.Seq)
        {
            latest = _sent; // never go back: results arrive in seq order, but be safe
        }

        var changes = Diff(_sent, latest);
        var watchers = PresenceLocked;
        var presenceChanged = watchers != _sentWatchers && !_closedSent; // nothing follows "closed"
        if (changes.Count == 0 && latest.Seq == _sent.Seq && (_closedSent || latest.Status != PollStatus.Closed))
        {
            if (!presenceChanged)
            {
                return FlushResult.Nothing;
            }

            if (now < PresenceAllowedAt)
            {
                return FlushResult.PresenceDeferred;
            }
        }

        if (presenceChanged)
        {
            PresenceAllowedAt = now + presenceInterval;
        }

        delta = LiveMessage.Delta(latest, _sent.Seq, changes, presenceChanged ? watchers : null, latest.Status != _sent.Status && latest.Status != PollStatus.Closed);
        if (!delta.IsPresenceOnly)
        {
            Remember(delta);
        }

        _sent = latest;
        _sentWatchers = watchers;
        _snapshot = null;
        _metrics?.RecordDelta();
        if (latest.Status == PollStatus.Closed && !_closedSent)
        {
            _closedSent = true;
            closed = LiveMessage.Closed(latest);
        }
        else if (latest.Status != PollStatus.Closed)
        {
            _closedSent = false; // reopened: the stream goes on (this delta says "open"), and a later close is sent again
        }

        return FlushResult.Sent;
    }

    /// <summary>Under the lock: the watchers now, as an array that later subscribes and unsubscribes leave alone.</summary>
    private LiveConnection[] FanOutTargetsLocked()
    {
        if (_fanOutStale)
        {
            // Rebuilt at most once per delta, however many watchers came and went since the last one.
            _fanOutTo = [.. _watchers];
            _fanOutStale = false;
        }

        return _fanOutTo;
    }

    /// <summary>
    /// Adds a watcher and queues what it needs to catch up: the deltas after <paramref name="since"/>
    /// when the history still has them all, else a snapshot (then <c>closed</c> for a closed poll).
    /// False when the stream has been retired (the hub then starts a fresh one).
    /// </summary>
    public bool Subscribe(LiveConnection connection, long? since)
    {
        lock (_gate)
        {
            if (_retired)
            {
                return false;
            }

            if (!connection.IsSubscribed(PollId))
            {
                return true; // the connection was detached (or unsubscribed) since the hub added the subscription
            }

            _fanOutStale |= _watchers.Add(connection);
            if (since is { } from && from <= _sent.Seq && CanCatchUp(from))
            {
                // The watcher continues from `since`: the deltas after it, then what later fan-outs bring.
                connection.OfferStart(PollId, continuesFrom: from);
                CatchUp(connection, from);
                MarkDirty();
                return true;
            }

            connection.OfferStart(PollId, continuesFrom: null); // a snapshot follows
            connection.Offer(SnapshotLocked(PresenceLocked));
            if (_closedSent)
            {
                connection.Offer(LiveMessage.Closed(_sent));
            }

            _metrics?.RecordMessages(_closedSent ? 2 : 1);

            MarkDirty();
            return true;
        }
    }

    public void Unsubscribe(LiveConnection connection)
    {
        lock (_gate)
        {
            if (_watchers.Remove(connection))
            {
                _fanOutStale = true;
                MarkDirty();
            }
        }
    }

    /// <summary>
    /// Retires the stream when nobody has watched it and nothing has changed for <paramref name="idleTimeout"/>
    /// (timestamps of the shard's clock): later subscribes are refused, so the hub can drop it.
    /// </summary>
    public bool TryRetire(long now, long idleTimeout)
    {
        lock (_gate)
        {
            if (_watchers.Count > 0 || Volatile.Read(ref _dirty) != 0 || IsScheduled)
            {
                _idleSince = 0;
                return false;
            }

            if (_idleSince == 0)
            {
                _idleSince = now; // first seen idle: the timeout counts from here
                return false;
            }

            _retired = now - _idleSince >= idleTimeout;
            return _retired;
        }
    }

    /// <summary>The results last sent, as a snapshot (shared while nothing changes).</summary>
    public LiveMessage CurrentSnapshot()
    {
        lock (_gate)
        {
            return SnapshotLocked(PresenceLocked);
        }
    }

    private LiveMessage SnapshotLocked(int watchers)
    {
        if (_snapshot is null || _snapshot.Watchers != watchers)
        {
            _snapshot = LiveMessage.Snapshot(_sent, watchers);
        }

        return _snapshot;
    }

    /// <summary>True when the history holds every change after <paramref name="since"/> (or there is none).</summary>
    private bool CanCatchUp(long since) =>
        since == _sent.Seq || (_historyCount > 0 && _history[_historyStart]!.PreviousSeq <= since);

    private void CatchUp(LiveConnection connection, long since)
    {
        if (since == _sent.Seq)
        {
            // Up to date: the next delta continues the stream. But a closed poll's last delta and its
            // "closed" share this seq, and the watcher may have dropped between the two: repeat "closed".
            if (_closedSent)
            {
                connection.Offer(LiveMessage.Closed(_sent));
                _metrics?.RecordMessages(1);
            }

            return;
        }

        // The oldest delta kept starts at or before `since` (CanCatchUp): every later change is in the history.
        var offered = 0;
        for (var i = 0; i < _historyCount; i++)
        {
            var delta = _history[(_historyStart + i) % _history.Length]!;
            if (delta.Seq > since)
            {
                connection.Offer(delta);
                offered++;
            }
        }

        if (_closedSent)
        {
            connection.Offer(LiveMessage.Closed(_sent));
            offered++;
        }

        _metrics?.RecordMessages(offered);
    }

    private void Remember(LiveMessage delta)
    {
        var at = (_historyStart + _historyCount) % _history.Length;
        _history[at] = delta;
        if (_historyCount < _history.Length)
        {
            _historyCount++;
        }
        else
        {
            _historyStart = (_historyStart + 1) % _history.Length;
        }
    }

    private void Broadcast(LiveConnection[] watchers, LiveMessage message)
    {
        foreach (var watcher in watchers)
        {
            watcher.Offer(message);
        }

        _metrics?.RecordMessages(watchers.Length);
    }

    private void MarkDirty()
    {
        Volatile.Write(ref _idleSince, 0); // activity: an idle stream's timeout starts over
        if (Interlocked.Exchange(ref _dirty, 1) == 0)
        {
            _shard.Enqueue(this);
        }
    }

    private static List<OptionCount> Diff(PollResults from, PollResults to)
    {
        var changes = new List<OptionCount>();
        for (var i = 0; i < to.Counts.Count; i++)
        {
            if (to.Counts[i] != from.Counts[i])
            {
                changes.Add(new OptionCount(i + 1, to.Counts[i]));
            }
        }

        return changes;
    }
}

/// <summary>What <see cref="PollStream.Flush(long, long)"/> did.</summary>
internal enum FlushResult
{
    Nothing,
    Sent,

    /// <summary>Only the watcher count changed, and too recently: due at <see cref="PollStream.PresenceAllowedAt"/>.</summary>
    PresenceDeferred,
}
