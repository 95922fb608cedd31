namespace SignalRBaseline;

/// <summary>
/// At most one call per interval, leading and trailing edge (like lodash's throttle): the first change after a quiet
/// interval goes at once, later ones within the interval are folded into one call at its end.
/// </summary>
internal sealed class Throttle(TimeSpan interval)
{
    private readonly Lock _gate = new();
    private long _lastRun = long.MinValue / 2;
    private bool _scheduled;

    public void Changed(Func<Task> run)
    {
        TimeSpan wait;
        lock (_gate)
        {
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
            wait = TimeProvider.System.GetElapsedTime(TimeProvider.System.GetTimestamp(), _lastRun) + interval;
        }

        _ = RunAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, run);
    }

    private async Task RunAsync(TimeSpan wait, Func<Task> run)
    {
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
            _scheduled = false;
            _lastRun = TimeProvider.System.GetTimestamp();
        }

        await run();
    }
}
