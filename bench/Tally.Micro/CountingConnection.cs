using Tally.Live;

namespace Tally.Micro;

/// <summary>An in-memory watcher: each message written counts down the fan-out's signal; nothing goes to a socket.</summary>
internal sealed class CountingConnection(LiveOptions options, FanOutSignal signal) : LiveConnection(options)
{
    protected override ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        signal.Written();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Completes when the expected number of writes has happened since <see cref="Arm"/>.</summary>
internal sealed class FanOutSignal
{
    private int _remaining;
    private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Arm(int writes)
    {
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _remaining, writes);
        return _done.Task;
    }

    public void Written()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }
}
