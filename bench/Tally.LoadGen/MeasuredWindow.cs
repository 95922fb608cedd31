using System.Diagnostics;

namespace Tally.LoadGen;

/// <summary>The measured part of a run, as <see cref="Stopwatch"/> timestamps: what happens before <see cref="Start"/> is warm-up.</summary>
internal readonly record struct MeasuredWindow(long Start, long End)
{
    public static MeasuredWindow After(long start, TimeSpan warmup, TimeSpan duration) =>
        new(start + Ticks(warmup), start + Ticks(warmup + duration));

    public bool Contains(long timestamp) => timestamp >= Start && timestamp <= End;

    /// <summary>Server (read by <paramref name="serverCpu"/>, when known), load-generator and whole-machine CPU seconds between the window's start and end.</summary>
    /// <remarks><paramref name="helperCpu"/> reads the CPU seconds of the load generator's helper processes (the Node watchers), counted as the load generator's.</remarks>
    public async Task<CpuSample> SampleCpuAsync(Func<double>? serverCpu, CancellationToken cancellationToken, Func<double>? helperCpu = null)
    {
        await DelayUntilAsync(Start, cancellationToken);
        var server0 = serverCpu?.Invoke() ?? 0;
        var self0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds + (helperCpu?.Invoke() ?? 0);
        var machine0 = ProcessStats.MachineCpuSeconds();
        await DelayUntilAsync(End, cancellationToken);
        var server1 = serverCpu?.Invoke() ?? 0;
        var self1 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds + (helperCpu?.Invoke() ?? 0);
        var machine1 = ProcessStats.MachineCpuSeconds();
        return new CpuSample(
            serverCpu is null ? null : server1 - server0,
            self1 - self0,
            machine1.Busy - machine0.Busy,
            machine1.IoWait - machine0.IoWait);
    }

    public static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    public static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}

/// <summary>CPU seconds spent inside a window: by the server (when its pid is known), by this process, by the whole machine (all cores), and idle in iowait.</summary>
internal readonly record struct CpuSample(double? Server, double LoadGen, double MachineBusy, double IoWait)
{
    /// <summary>What the rest of the machine took: noise.</summary>
    public double Other => Math.Max(0, MachineBusy - LoadGen - (Server ?? 0));
}
