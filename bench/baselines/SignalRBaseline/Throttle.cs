namespace SignalRBaseline;

/// <summary>
/// At most one call per interval, leading and trailing edge (like lodash's throttle): the first change after a quiet
/// interval goes at once, later ones within the interval are folded into one call at its end. Calls never overlap (a
/// broadcast to a large group can take longer than the interval): changes during a call are folded into the next.
/// </summary>
internal sealed class Throttle(TimeSpan interval)
{
    private readonly Lock _gate = new();
    private long _lastRun = long.MinValue / 2;
    private bool _running;
    private bool _pending;

    public void Changed(Func<Task> run)
    {
        lock (_gate)
        {
            if (_running)
            {
                _pending = true;
                return;
            }

            _running = true;
            _pending = true;
        }

        _ = RunAsync(run);
    }

    private async Task RunAsync(Func<Task> run)
    {
        while (true)
        {
            var wait = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), _lastRun) + interval;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            else
            {
                await Task.Yield();
            }

            lock (_gate)
            {
                _pending = false;
                _lastRun = TimeProvider.System.GetTimestamp();
            }

            await run();
            lock (_gate)
            {
                if (!_pending)
                {
                    _running = false;
                    return;
                }
            }
        }
    }
}
