using Tally.Metrics;
using Tally.Polls;

namespace Tally.Live;

/// <summary>
/// One watcher's connection (an SSE response, a WebSocket, a gRPC stream), subscribed to one or more
/// polls. The hub offers messages without ever waiting. When nothing is being written, the message is
/// written at once on the offering thread (the publisher's): the transports take a message into their
/// output buffers synchronously, so a fan-out costs no thread hop per watcher. While a write is in
/// progress, messages wait in a bounded queue that the writer drains after it. When the queue is full
/// the connection is collapsed to "latest state": what is queued is dropped and, once the transport
/// drains, each subscribed poll gets one fresh snapshot. A single write that takes longer than
/// <see cref="LiveOptions.StuckTimeout"/> ends the connection as too slow. So a slow watcher never slows
/// the others nor grows memory, and an idle watcher holds no task, timer or buffer of its own here.
/// </summary>
public abstract class LiveConnection
{
    // One lock for the queue, the writer's state and the subscriptions: a connection watches few polls.
    // Lock order: a poll stream's locks, then this one (the stream offers a subscription's first messages under its
    // lock, and a fan-out's under its fan-out lock), never the reverse.
    private readonly Lock _gate = new();
    private readonly Queue<Outbound> _queue = new();
    private readonly Dictionary<string, LiveSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly int _capacity;
    private readonly TimeSpan _stuckTimeout;
    private WriterState _state;
    private bool _completing;
    private bool _overflowed;
    private bool _resyncWanted; // set by the writer: a delta did not continue what a watcher had
    private long _overflows;
    private int _wroteSinceHeartbeat;
    private CancellationToken _stopping;
    private TaskCompletionSource? _ended;
    private ITimer? _heartbeat;

    protected LiveConnection(LiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _stuckTimeout = options.StuckTimeout;
        _capacity = options.ConnectionQueueCapacity;
    }

    private enum WriterState
    {
        NotStarted, // messages queue until RunAsync
        Idle,       // the next message is written on the offering thread
        Writing,    // a writer owns the transport; messages queue behind it
        Ended,
    }

    /// <summary>Where overflows are counted; the hub sets it when the connection subscribes.</summary>
    internal TallyMetrics? Metrics { get; set; }

    /// <summary>Times the queue overflowed and the connection was collapsed to latest state.</summary>
    public long Overflows => Interlocked.Read(ref _overflows);

    /// <summary>The polls this connection watches (a copy).</summary>
    public IReadOnlyCollection<string> Polls
    {
        get
        {
            lock (_gate)
            {
                return [.. _subscriptions.Keys];
            }
        }
    }

    /// <summary>
    /// Writes the hub's messages to the transport until <paramref name="cancellationToken"/> fires (then it
    /// throws <see cref="OperationCanceledException"/>) or <see cref="Complete"/> is called (then it returns
    /// once what was queued is written). Throws <see cref="SlowConsumerException"/> when a write is stuck,
    /// and whatever a write threw when the transport failed. Messages offered before it starts wait for it.
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Continuations run asynchronously: a write that fails on the publisher's thread (under a stream's fan-out
        // lock) must not run the transport's clean-up there.
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        StartCore(ended, cancellationToken);
        using var stop = cancellationToken.UnsafeRegister(static state => ((LiveConnection)state!).Stop(), this);
        await ended.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Starts writing the hub's messages with nothing to await (an idle connection then holds no task):
    /// the end — after <see cref="Complete"/>, or a failed or stuck write — is reported to <see cref="OnEnded"/>.
    /// </summary>
    public void Start() => StartCore(null, CancellationToken.None);

    /// <summary>Stops writing after what is queued; later messages are dropped.</summary>
    public void Complete()
    {
        bool ended;
        lock (_gate)
        {
            _completing = true;
            ended = _state == WriterState.Idle;
            if (ended)
            {
                _state = WriterState.Ended;
            }
        }

        if (ended)
        {
            Finish(null);
        }
    }

    /// <summary>
    /// After <see cref="Start"/>: writing ended, with <paramref name="error"/> when a write failed (a
    /// <see cref="SlowConsumerException"/> when one was stuck). Runs on the thread pool, never on the
    /// thread that offered a message.
    /// </summary>
    protected virtual void OnEnded(Exception? error)
    {
    }

    /// <summary>Writes one message to the transport (may buffer until <see cref="FlushAsync"/>).</summary>
    protected abstract ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken);

    /// <summary>Called after each run of writes; SSE flushes the response here.</summary>
    protected virtual ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>When set, <see cref="WriteHeartbeatAsync"/> runs when a whole interval passed without a message (SSE comments).</summary>
    protected virtual TimeSpan? HeartbeatInterval => null;

    protected virtual ValueTask WriteHeartbeatAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    internal void Offer(LiveMessage message) => Offer(new Outbound(message));

    /// <summary>
    /// Queued by the stream before a subscription's first messages (under the stream's lock): a snapshot follows
    /// (<paramref name="continuesFrom"/> null), or the watcher continues from that seq.
    /// </summary>
    internal void OfferStart(string pollId, long? continuesFrom)
    {
        LiveSubscription? subscription;
        lock (_gate)
        {
            subscription = _subscriptions.GetValueOrDefault(pollId);
        }

        if (subscription is not null)
        {
            Offer(new Outbound(null, subscription, ContinuesFrom: continuesFrom));
        }
    }

    private void Offer(Outbound item)
    {
        lock (_gate)
        {
            if (_completing || _state == WriterState.Ended)
            {
                return;
            }

            if (_state != WriterState.Idle)
            {
                if (_queue.Count < _capacity)
                {
                    _queue.Enqueue(item);
                    return;
                }

                // Full: collapse to latest state. The writer resyncs before it takes the next item.
                _queue.Clear();
                _overflowed = true;
                Interlocked.Increment(ref _overflows);
                Metrics?.RecordOverflow();
                return;
            }

            _state = WriterState.Writing;
        }

        _ = DrainAsync(item, hasFirst: true, onCallerStack: true);
    }

    private void StartCore(TaskCompletionSource? ended, CancellationToken cancellationToken)
    {
        var heartbeat = HeartbeatInterval is { } interval
            ? TimeProvider.System.CreateTimer(static state => ((LiveConnection)state!).OnHeartbeatTimer(), this, interval, interval)
            : null;
        bool drain, endNow;
        lock (_gate)
        {
            if (_state != WriterState.NotStarted)
            {
                heartbeat?.Dispose();
                throw new InvalidOperationException("A connection runs once.");
            }

            _stopping = cancellationToken;
            _ended = ended;
            _heartbeat = heartbeat;
            drain = _queue.Count > 0 || _overflowed;
            endNow = !drain && _completing;
            _state = drain ? WriterState.Writing : endNow ? WriterState.Ended : WriterState.Idle;
        }

        if (endNow)
        {
            Finish(null);
        }
        else if (drain)
        {
            _ = DrainAsync(default, hasFirst: false, onCallerStack: false);
        }
    }

    private void OnHeartbeatTimer()
    {
        if (Interlocked.Exchange(ref _wroteSinceHeartbeat, 0) == 0)
        {
            Offer(new Outbound(null, null, Heartbeat: true));
        }
    }

    /// <summary>The token fired: drop what waits; the writer (if one is at work) ends after its write.</summary>
    private void Stop()
    {
        bool ended;
        lock (_gate)
        {
            _completing = true;
            _queue.Clear();
            _overflowed = false;
            ended = _state is WriterState.Idle or WriterState.NotStarted;
            if (ended)
            {
                _state = WriterState.Ended;
            }
        }

        if (ended)
        {
            Finish(null);
        }
    }

    /// <summary>Reports the end, once: the state has just become <see cref="WriterState.Ended"/>.</summary>
    private void Finish(Exception? error)
    {
        _heartbeat?.Dispose();
        if (_ended is { } ended)
        {
            if (_stopping.IsCancellationRequested && error is null or OperationCanceledException)
            {
                ended.TrySetCanceled(_stopping);
            }
            else if (error is not null)
            {
                ended.TrySetException(error);
            }
            else
            {
                ended.TrySetResult();
            }
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Connection.OnEnded(state.Error), (Connection: this, Error: error), preferLocal: false);
        }
    }

    /// <summary>
    /// The writer: writes <paramref name="first"/> (when <paramref name="hasFirst"/>), then whatever queued
    /// meanwhile, flushes, and goes idle. While every write completes synchronously it allocates nothing.
    /// It never throws: a failure ends <see cref="RunAsync"/>.
    /// </summary>
    private async Task DrainAsync(Outbound first, bool hasFirst, bool onCallerStack)
    {
        var unflushed = false;
        try
        {
            while (true)
            {
                _stopping.ThrowIfCancellationRequested();
                var item = first;
                var resync = false;
                if (hasFirst)
                {
                    hasFirst = false;
                }
                else
                {
                    bool got, idle, ended;
                    lock (_gate)
                    {
                        resync = _overflowed || _resyncWanted;
                        _overflowed = _resyncWanted = false;
                        got = !resync && _queue.TryDequeue(out item);
                        idle = !resync && !got && !unflushed;
                        ended = idle && GoIdle();
                    }

                    if (idle)
                    {
                        if (ended)
                        {
                            Finish(null);
                        }

                        return;
                    }

                    if (!resync && !got)
                    {
                        // Nothing waits: flush, then look again (a message may come during the flush).
                        await Bounded(FlushAsync(_stopping)).ConfigureAwait(false);
                        unflushed = false;
                        continue;
                    }
                }

                if (resync)
                {
                    if (onCallerStack)
                    {
                        // A resync takes the streams' locks; the offering thread may hold one of them.
                        onCallerStack = false;
                        await Task.Yield();
                    }

                    await ResyncAsync().ConfigureAwait(false);
                    unflushed = true;
                }
                else if (await ProcessAsync(item).ConfigureAwait(false))
                {
                    unflushed = true;
                }
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
    }

    /// <summary>Under the lock: the queue is empty and flushed. True when the connection has now ended.</summary>
    private bool GoIdle()
    {
        _state = _completing ? WriterState.Ended : WriterState.Idle;
        return _completing;
    }

    private void Fail(Exception exception)
    {
        lock (_gate)
        {
            _state = WriterState.Ended;
            _completing = true;
            _queue.Clear();
        }

        Finish(exception);
    }

    /// <summary>Writes one queued item; true when it wrote something that needs a flush.</summary>
    private async ValueTask<bool> ProcessAsync(Outbound item)
    {
        if (item.Heartbeat)
        {
            await Bounded(WriteHeartbeatAsync(_stopping)).ConfigureAwait(false);
            return true;
        }

        if (item.StartOf is { } started)
        {
            // From here on the subscription's messages are written (a fan-out that began before it may still offer one).
            started.Start(item.ContinuesFrom);
            return false;
        }

        if (item.Message is not { } message || SubscriptionOf(message.PollId) is not { } subscription)
        {
            return false; // unsubscribed since it was queued
        }

        switch (subscription.Admit(message))
        {
            case LiveAdmission.Write:
                await WriteMessageAsync(message, subscription).ConfigureAwait(false);
                return true;
            case LiveAdmission.Gap:
                // Never write a delta that skips a change: the watcher gets fresh snapshots instead. It happens
                // when a fan-out that began before a resubscribe offers its delta ahead of the catch-up's deltas.
                _resyncWanted = true;
                return false;
            default:
                return false;
        }
    }

    internal bool Add(string pollId, PollStream stream)
    {
        lock (_gate)
        {
            return _subscriptions.TryAdd(pollId, new LiveSubscription(stream));
        }
    }

    internal PollStream? Remove(string pollId)
    {
        lock (_gate)
        {
            return _subscriptions.Remove(pollId, out var subscription) ? subscription.Stream : null;
        }
    }

    internal bool IsSubscribed(string pollId)
    {
        lock (_gate)
        {
            return _subscriptions.ContainsKey(pollId);
        }
    }

    /// <summary>The poll's subscription, or null when the connection no longer watches it (unsubscribed since a message was queued).</summary>
    private LiveSubscription? SubscriptionOf(string pollId)
    {
        lock (_gate)
        {
            return _subscriptions.GetValueOrDefault(pollId);
        }
    }

    private LiveSubscription[] Subscriptions()
    {
        lock (_gate)
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

    private async Task ResyncAsync()
    {
        foreach (var subscription in Subscriptions())
        {
            var snapshot = subscription.Stream.CurrentSnapshot();
            await WriteMessageAsync(snapshot, subscription).ConfigureAwait(false);
            if (snapshot.Status == PollStatus.Closed)
            {
                // The poll's "closed" may have been among the dropped messages: it follows a closed poll's snapshot.
                await WriteMessageAsync(LiveMessage.Closed(snapshot.Results), subscription).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask WriteMessageAsync(LiveMessage message, LiveSubscription subscription)
    {
        await Bounded(WriteAsync(message, _stopping)).ConfigureAwait(false);
        Volatile.Write(ref _wroteSinceHeartbeat, 1);
        subscription.Wrote(message);
    }

    /// <summary>
    /// Awaits one transport operation. Most complete synchronously and cost nothing here; one still
    /// pending past the stuck timeout ends the connection as too slow (the transport's own abort
    /// then ends the operation).
    /// </summary>
    private ValueTask Bounded(ValueTask operation)
    {
        if (!operation.IsCompletedSuccessfully)
        {
            return BoundedSlowAsync(operation);
        }

        operation.GetAwaiter().GetResult(); // consumes it (a pooled source may be reused after)
        return ValueTask.CompletedTask;
    }

    private async ValueTask BoundedSlowAsync(ValueTask operation)
    {
        try
        {
            await operation.AsTask().WaitAsync(_stuckTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new SlowConsumerException($"A write did not complete within {_stuckTimeout.TotalSeconds:0.#} s.");
        }
    }

    /// <summary>
    /// A queued item: a message; or, with <see cref="StartOf"/>, the start of a (re)subscription (continuing from
    /// <see cref="ContinuesFrom"/>, or from the snapshot that follows when null); or a heartbeat.
    /// </summary>
    private readonly record struct Outbound(LiveMessage? Message, LiveSubscription? StartOf = null, bool Heartbeat = false, long? ContinuesFrom = null);
}
