namespace Tally.LoadGen;

/// <summary>One <c>idle</c> run, as written with <c>--json</c> and read back by <c>report-fanout</c>. Memory in MiB.</summary>
internal sealed record IdleResult
{
    /// <summary>The server watched: tally, or a baseline (ceiling, signalr, socketio).</summary>
    public string Target { get; init; } = WatchTargets.Tally;

    public required string Transport { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Watchers asked for, and those connected (each with its snapshot) before the first failure or the cap.</summary>
    public required int Cap { get; init; }

    public required int Watchers { get; init; }

    public required int Polls { get; init; }

    public required long ConnectFailures { get; init; }

    public string? FirstConnectProblem { get; init; }

    public required double ConnectSeconds { get; init; }

    /// <summary>Seconds the watchers sat idle (presence settled) before the memory was read.</summary>
    public required double IdleSeconds { get; init; }

    public required bool PresenceSettled { get; init; }

    public required double? ServerRssBeforeMiB { get; init; }

    public required double? ServerRssIdleMiB { get; init; }

    public required double? ServerRssAfterCloseMiB { get; init; }

    /// <summary>The server's peak resident memory since it started (VmHWM), read after the watchers closed.</summary>
    public double? ServerPeakRssMiB { get; init; }

    /// <summary>(RSS idle − RSS before) / watchers, in KiB.</summary>
    public required double? KiBPerWatcher { get; init; }

    /// <summary>Server RSS once the full collection below was done (watchers still connected).</summary>
    public double? ServerRssAfterGcMiB { get; init; }

    /// <summary>The server's managed heap right after an induced full GC, before the watchers connected and with them idle (null when it could not be read).</summary>
    public double? ServerHeapBeforeMiB { get; init; }

    public double? ServerHeapIdleMiB { get; init; }

    /// <summary>(heap idle − heap before) / watchers, in KiB: the managed memory a watcher keeps, garbage excluded.</summary>
    public double? HeapKiBPerWatcher { get; init; }

    public double? GcHandlesPerWatcher { get; init; }

    /// <summary>Server CPU seconds while the watchers sat idle (keep-alives, timers).</summary>
    public required double? ServerIdleCpuSeconds { get; init; }

    public required double LoadGenRssMiB { get; init; }

    /// <summary>One vote per poll after the idle period: vote sent → watcher received, over every watcher (ms).</summary>
    public required double WakeP50Ms { get; init; }

    public required double WakeP99Ms { get; init; }

    public required double WakeMaxMs { get; init; }

    public required bool Verified { get; init; }

    public string? Problem { get; init; }
}
