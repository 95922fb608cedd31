using System.Threading.Channels;

namespace Tally.Live;

/// <summary>
/// The loop that conflates the changes of a share of the polls: a stream whose last delta went out at
/// least a tick ago is flushed at once (leading edge: low latency when quiet); otherwise it waits until
/// a tick has passed since its last delta (bounded message rate under load). A change of the watcher
/// count alone waits for the presence interval instead.
/// </summary>
internal sealed class PublisherShard
{
    private readonly Channel<PollStream?> _dirty = Channel.CreateUnbounded<PollStream?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PriorityQueue<PollStream, long> _due = new();
    private readonly TimeProvider _time;
    private readonly long _tick;
    private readonly long _presenceInterval;
    private readonly Action<Exception> _onFault;
    private Task? _loop;

    public PublisherShard(TimeProvider time, TimeSpan tick, TimeSpan presenceInterval, Action<Exception> onFault)
    {
        _time = time;
        _tick = (long)(tick.TotalSeconds * time.TimestampFrequency);
        _presenceInterval = (long)(presenceInterval.TotalSeconds * time.TimestampFrequency);
        _onFault = onFault;
    }

    /// <summary>Deltas sent by this shard (a counter for metrics and tests).</summary>
    public long DeltasSent { get; private set; }

    public void Enqueue(PollStream stream) => _dirty.Writer.TryWrite(stream);

    public void Start(CancellationToken stopping) => _loop = Task.Run(() => RunAsync(stopping), CancellationToken.None);

    public Task StopAsync()
    {
        _dirty.Writer.TryComplete();
        return _loop ?? Task.CompletedTask;
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var reader = _dirty.Reader;

        // One timer for the shard, re-armed for the earliest due stream; it wakes the loop with a null item.
        // (A Task.Delay and a fresh WaitToReadAsync per wait cost a timer, tasks and, on a single-reader
        // channel, a cancelled waiter per vote under load.)
        using var timer = _time.CreateTimer(static state => ((PublisherShard)state!)._dirty.Writer.TryWrite(null), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var armedFor = long.MaxValue;
        try
        {
            while (true)
            {
                var now = _time.GetTimestamp();
                while (reader.TryRead(out var stream))
                {
                    if (stream is null)
                    {
                        armedFor = long.MaxValue; // the timer fired: arm it again for whatever is due next
                        continue;
                    }

                    stream.ClearDirty();
                    Consider(stream, now);
                }

                while (_due.TryPeek(out var stream, out var at) && at <= now)
                {
                    _due.Dequeue();
                    if (at != stream.ScheduledAt)
                    {
                        continue; // superseded by an earlier entry for the same stream, already taken
                    }

                    stream.ScheduledAt = long.MaxValue;
                    Consider(stream, now);
                }

                if (_due.TryPeek(out _, out var next))
                {
                    // From the clock now, not from the top of the loop (time may have moved while flushing).
                    var wait = _time.GetElapsedTime(_time.GetTimestamp(), next);
                    if (wait <= TimeSpan.Zero)
                    {
                        continue;
                    }

                    if (next != armedFor)
                    {
                        armedFor = next;
                        timer.Change(wait, Timeout.InfiniteTimeSpan);
                    }
                }

                if (!await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Flushes the stream if its tick allows, else makes sure it is due when it does.</summary>
    private void Consider(PollStream stream, long now)
    {
        if (now < stream.NextAllowed)
        {
            Schedule(stream, stream.NextAllowed);
            return;
        }

        try
        {
            switch (stream.Flush(now, _presenceInterval))
            {
                case FlushResult.Sent:
                    DeltasSent++;
                    stream.NextAllowed = NextAllowedAfter(stream.NextAllowed, now, _tick);
                    break;
                case FlushResult.PresenceDeferred:
                    Schedule(stream, stream.PresenceAllowedAt);
                    break;
            }
        }
        catch (Exception ex)
        {
            _onFault(ex); // one stream's bug must not stop the others' deltas
        }
    }

    /// <summary>
    /// When a stream's next delta may go out, after one went out at <paramref name="now"/> that was allowed from
    /// <paramref name="allowed"/>. A delta a little late (the timer's and the loop's wake-up, a fan-out before it
    /// in the same pass) keeps the tick's cadence: the next is a tick after it was allowed, not after it went out,
    /// so wake-up jitter does not stretch every tick of a busy poll (at 50 ms ticks ~1 ms a tick was ~2% fewer
    /// deltas and later screens). One later than a quarter of a tick — a quiet stream's leading edge, or a shard
    /// that cannot keep up — starts a new cadence from now, so a late shard never sends faster to catch up.
    /// </summary>
    internal static long NextAllowedAfter(long allowed, long now, long tick) => now - allowed < tick / 4 ? allowed + tick : now + tick;

    /// <summary>A stream waits in the due queue once, at its earliest time; a later entry left behind is skipped.</summary>
    private void Schedule(PollStream stream, long at)
    {
        if (at < stream.ScheduledAt)
        {
            stream.ScheduledAt = at;
            _due.Enqueue(stream, at);
        }
    }
}
