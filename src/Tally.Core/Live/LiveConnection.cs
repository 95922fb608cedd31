using System.Threading.Channels;
using Tally.Polls;

namespace Tally.Live;

/// <summary>
/// One watcher's connection (an SSE response, a WebSocket, a gRPC stream), subscribed to one or more
/// polls. The hub offers messages without ever waiting: they go into a bounded queue that
/// <see cref="RunAsync"/> drains into the transport. When the queue is full the connection is collapsed
/// to "latest state": what is queued is dropped and, once the transport drains, each subscribed poll
/// gets one fresh snapshot. A single write that takes longer than <see cref="LiveOptions.StuckTimeout"/>
/// ends the connection as too slow. So a slow watcher never slows the others nor grows memory.
/// </summary>
public abstract class LiveConnection
{
    private readonly Channel<Outbound> _queue;
    // A plain dictionary under a lock: a connection watches few polls, and an idle watcher should cost little memory.
    private readonly Dictionary<string, PollStream> _subscriptions = new(StringComparer.Ordinal);
    private readonly Lock _subscriptionsGate = new();
    private readonly Dictionary<string, long> _resyncedAt = new(StringComparer.Ordinal);
    private readonly HashSet<string> _closedWritten = new(StringComparer.Ordinal);
    private readonly TimeSpan _stuckTimeout;
    private int _overflowed;
    private long _overflows;

    protected LiveConnection(LiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _stuckTimeout = options.StuckTimeout;
        _queue = Channel.CreateBounded<Outbound>(new BoundedChannelOptions(options.ConnectionQueueCapacity)
        {
            SingleWriter = false,
            SingleReader = false, // the offering thread drains it on overflow
            FullMode = BoundedChannelFullMode.Wait, // never waited on: Offer uses TryWrite
        });
    }

    /// <summary>Times the queue overflowed and the connection was collapsed to latest state.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    /// <summary>The polls this connection watches (a copy).</summary>
    public IReadOnlyCollection<string> Polls
    {
        get
        {
            lock (_subscriptionsGate)
            {
                return [.. _subscriptions.Keys];
            }
        }
    }

    /// <summary>
    /// Writes queued messages to the transport until <paramref name="cancellationToken"/> fires or
    /// <see cref="Complete"/> is called. Throws <see cref="SlowConsumerException"/> when a write is stuck.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var reader = _queue.Reader;
        using var writeTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // One idle timer per connection, re-armed for every wait (a Task.Delay per wait would leave a
        // live timer behind for every message: the fan-out benchmark counted ~225 per SSE watcher).
        var interval = HeartbeatInterval;
        var idle = interval is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                bool more;
                if (idle is not null)
                {
                    idle.CancelAfter(interval!.Value);
                    try
                    {
                        more = await reader.WaitToReadAsync(idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        idle.Dispose();
                        idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        await BoundedAsync(static (c, t) => c.WriteHeartbeatAsync(t), writeTimeout, cancellationToken).ConfigureAwait(false);
                        await BoundedAsync(static (c, t) => c.FlushAsync(t), writeTimeout, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    if (!idle.TryReset())
                    {
                        idle.Dispose(); // the timer fired just as data came: start a fresh one
                        idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    }
                }
                else
                {
                    more = await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                }

                if (!more)
                {
                    return;
                }

                while (reader.TryRead(out var item))
                {
                    if (Interlocked.Exchange(ref _overflowed, 0) == 1)
                    {
                        await ResyncAsync(writeTimeout, cancellationToken).ConfigureAwait(false);
                    }

                    if (item.StartOf is { } started)
                    {
                        // What this connection wrote for an earlier subscription to the poll no longer applies.
                        _resyncedAt.Remove(started);
                        _closedWritten.Remove(started);
                    }
                    else if (item.Message is { } message && ShouldWrite(message))
                    {
                        await WriteBoundedAsync(message, writeTimeout, cancellationToken).ConfigureAwait(false);
                    }
                }

                await BoundedAsync(static (c, t) => c.FlushAsync(t), writeTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            idle?.Dispose();
        }
    }

    /// <summary>Stops <see cref="RunAsync"/> after what is queued.</summary>
    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Writes one message to the transport (may buffer until <see cref="FlushAsync"/>).</summary>
    protected abstract ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken);

    /// <summary>Called after each run of writes; SSE flushes the response here.</summary>
    protected virtual ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>When set, <see cref="WriteHeartbeatAsync"/> runs after this long without a message (SSE comments).</summary>
    protected virtual TimeSpan? HeartbeatInterval => null;

    protected virtual ValueTask WriteHeartbeatAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    internal void Offer(LiveMessage message) => Offer(new Outbound(message));

    /// <summary>Queued by the stream before a subscription's first messages (under the stream's lock).</summary>
    internal void OfferStart(string pollId) => Offer(new Outbound(null, pollId));

    private void Offer(Outbound item)
    {
        if (_queue.Writer.TryWrite(item))
        {
            return;
        }

        // Full: collapse to latest state. Flag first, then drop what waits, then make sure the writer wakes.
        Interlocked.Exchange(ref _overflowed, 1);
        Interlocked.Increment(ref _overflows);
        while (_queue.Reader.TryRead(out _))
        {
        }

        _queue.Writer.TryWrite(default);
    }

    internal bool Add(string pollId, PollStream stream)
    {
        lock (_subscriptionsGate)
        {
            return _subscriptions.TryAdd(pollId, stream);
        }
    }

    internal PollStream? Remove(string pollId)
    {
        lock (_subscriptionsGate)
        {
            return _subscriptions.Remove(pollId, out var stream) ? stream : null;
        }
    }

    internal bool IsSubscribed(string pollId)
    {
        lock (_subscriptionsGate)
        {
            return _subscriptions.ContainsKey(pollId);
        }
    }

    private PollStream[] Streams()
    {
        lock (_subscriptionsGate)
        {
            return [.. _subscriptions.Values];
        }
    }

    /// <summary>Unsubscribes from every poll (the connection ended).</summary>
    public void Detach()
    {
        foreach (var pollId in Polls)
        {
            if (Remove(pollId) is { } stream)
            {
                stream.Unsubscribe(this);
            }
        }

        Complete();
    }

    private bool ShouldWrite(LiveMessage message)
    {
        if (!IsSubscribed(message.PollId))
        {
            return false; // unsubscribed since it was queued
        }

        if (message.Kind == LiveMessageKind.Closed && _closedWritten.Contains(message.PollId))
        {
            return false; // a resync already said so
        }

        if (message.Kind == LiveMessageKind.Delta && _resyncedAt.TryGetValue(message.PollId, out var resynced))
        {
            if (message.Seq < resynced || (message.Seq == resynced && !message.IsPresenceOnly))
            {
                return false; // the resync snapshot already holds it
            }

            _resyncedAt.Remove(message.PollId);
        }

        return true;
    }

    private async Task ResyncAsync(CancellationTokenSource writeTimeout, CancellationToken cancellationToken)
    {
        foreach (var stream in Streams())
        {
            var snapshot = stream.CurrentSnapshot();
            _resyncedAt[snapshot.PollId] = snapshot.Seq;
            await WriteBoundedAsync(snapshot, writeTimeout, cancellationToken).ConfigureAwait(false);
            if (snapshot.Status == PollStatus.Closed)
            {
                // The poll's "closed" may have been among the dropped messages: it follows a closed poll's snapshot.
                await WriteBoundedAsync(LiveMessage.Closed(snapshot.Results), writeTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WriteBoundedAsync(LiveMessage message, CancellationTokenSource writeTimeout, CancellationToken cancellationToken)
    {
        writeTimeout.CancelAfter(_stuckTimeout);
        try
        {
            await WriteAsync(message, writeTimeout.Token).ConfigureAwait(false); // no closure: this runs per message per watcher
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Stuck();
        }

        EndBounded(writeTimeout, cancellationToken);
        switch (message.Kind)
        {
            case LiveMessageKind.Snapshot:
                _closedWritten.Remove(message.PollId); // a new run of the poll's stream (a resubscription or a resync)
                break;
            case LiveMessageKind.Closed:
                _closedWritten.Add(message.PollId);
                break;
        }
    }

    /// <summary>Runs one transport operation; past the stuck timeout the connection is too slow.</summary>
    private async Task BoundedAsync(Func<LiveConnection, CancellationToken, ValueTask> operation, CancellationTokenSource writeTimeout, CancellationToken cancellationToken)
    {
        writeTimeout.CancelAfter(_stuckTimeout);
        try
        {
            await operation(this, writeTimeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Stuck();
        }

        EndBounded(writeTimeout, cancellationToken);
    }

    private void EndBounded(CancellationTokenSource writeTimeout, CancellationToken cancellationToken)
    {
        if (!writeTimeout.TryReset())
        {
            // Cancelled during the write: by the caller (the watcher left), or the timer fired just now.
            cancellationToken.ThrowIfCancellationRequested();
            throw Stuck();
        }
    }

    private SlowConsumerException Stuck() => new($"A write did not complete within {_stuckTimeout.TotalSeconds:0.#} s.");

    /// <summary>A queued item: a message; or, with <see cref="StartOf"/>, the start of a (re)subscription to that poll; or neither: "resync".</summary>
    private readonly record struct Outbound(LiveMessage? Message, string? StartOf = null);
}
