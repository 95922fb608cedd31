namespace Tally.Cluster;

/// <summary>
/// A background loop a node runs while it holds some duty (the ledger projector and the Redis read models
/// run on partition 0's owner): <see cref="Start"/> begins it unless it runs, <see cref="StopAsync"/> cancels
/// it and waits for it to end, and it may be started again after.
/// </summary>
internal abstract class RestartableLoop : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private CancellationTokenSource? _running;
    private Task _loop = Task.CompletedTask;

    public void Start()
    {
        lock (_gate)
        {
            if (_running is not null)
            {
                return;
            }

            _running = new CancellationTokenSource();
            OnStarting();
            var token = _running.Token;
            _loop = Task.Run(() => RunAsync(token), CancellationToken.None);
        }
    }

    public async Task StopAsync()
    {
        CancellationTokenSource? running;
        lock (_gate)
        {
            running = _running;
            _running = null;
            if (running is not null)
            {
                OnStopping();
            }
        }

        if (running is null)
        {
            return;
        }

        await running.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        running.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs until <paramref name="stopping"/> is cancelled; must not throw for that.</summary>
    protected abstract Task RunAsync(CancellationToken stopping);

    /// <summary>Called under the gate as the loop starts.</summary>
    protected virtual void OnStarting()
    {
    }

    /// <summary>Called under the gate as the loop is asked to stop.</summary>
    protected virtual void OnStopping()
    {
    }
}
