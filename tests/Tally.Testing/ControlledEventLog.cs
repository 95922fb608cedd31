using Tally.Events;
using Tally.Storage;

namespace Tally.Testing;

/// <summary>
/// Wraps a real log so a test can hold appends at a gate (to fill queues deterministically) or make
/// the next appends fail (to test that nothing unacknowledged is half-applied). <paramref name="failShared"/>, when set, is
/// asked before each append whether it fails too (an <see cref="AppendGate"/>'s failures, shared by its logs).
/// </summary>
public sealed class ControlledEventLog(IEventLog inner, Func<bool>? failShared = null) : IEventLog
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _open = CompletedSource();
    private int _failNext;
    private int _keepAndFailNext;
    private int _waiting;

    public long CommittedPosition => inner.CommittedPosition;

    /// <summary>Appends that have arrived and wait at the closed gate.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Appends from now on wait until <see cref="Open"/>.</summary>
    public void Close()
    {
        lock (_gate)
        {
            if (_open.Task.IsCompleted)
            {
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    public void Open()
    {
        lock (_gate)
        {
            _open.TrySetResult();
        }
    }

    /// <summary>The next <paramref name="count"/> appends fail with an <see cref="IOException"/> and write nothing.</summary>
    public void FailNext(int count = 1) => Volatile.Write(ref _failNext, count);

    /// <summary>
    /// The next <paramref name="count"/> appends are written to the log, then fail with an <see cref="IOException"/>: a
    /// store that breaks the log contract (an fsync error reported after the write landed), as the engine must survive.
    /// </summary>
    public void KeepAndFailNext(int count = 1) => Volatile.Write(ref _keepAndFailNext, count);

    public Task OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

    public async ValueTask<long> AppendAsync(IReadOnlyList<PollEvent> events, CancellationToken cancellationToken)
    {
        Task open;
        lock (_gate)
        {
            open = _open.Task;
        }

        if (!open.IsCompleted)
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await open.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        if (Interlocked.Decrement(ref _failNext) >= 0 || failShared?.Invoke() == true)
        {
            throw new IOException("disk full (injected by the test)");
        }

        Interlocked.Exchange(ref _failNext, 0);
        var first = await inner.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        if (Interlocked.Decrement(ref _keepAndFailNext) >= 0)
        {
            throw new IOException("fsync failed after the write (injected by the test)");
        }

        Interlocked.Exchange(ref _keepAndFailNext, 0);
        return first;
    }

    public IAsyncEnumerable<StoredEvent> ReadAsync(long afterPosition, CancellationToken cancellationToken) => inner.ReadAsync(afterPosition, cancellationToken);

    public Task<bool> IsHealthyAsync(CancellationToken cancellationToken) => inner.IsHealthyAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private static TaskCompletionSource CompletedSource()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }
}
