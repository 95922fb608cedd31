namespace Tally.Live;

/// <summary>Settings of live results delivery (section <c>Tally:Live</c>).</summary>
public sealed class LiveOptions
{
    /// <summary>At most one delta per poll per tick; a change after a quiet tick goes out at once. Default 50 ms.</summary>
    public TimeSpan Tick { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// A change of the watcher count alone goes out at most this often per poll (a delta with new counts
    /// carries it anyway). Without it a connect storm — thousands of phones opening a shared link — would
    /// send every watcher a presence delta every tick. Default 1 s.
    /// </summary>
    public TimeSpan PresenceInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A poll's stream (its recent deltas for resume) is dropped after this long with no watcher and no
    /// change; the next watcher or change starts a fresh one from the current results. Default 10 min.
    /// </summary>
    public TimeSpan IdleStreamTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Publisher loops polls are spread over by id. Default: the processor count.</summary>
    public int Shards { get; set; } = Environment.ProcessorCount;

    /// <summary>Recent deltas kept per poll for resume; older resumes get a snapshot. Default 256.</summary>
    public int HistoryLength { get; set; } = 256;

    /// <summary>Messages waiting for one connection; past it the connection is collapsed to "latest state". Default 64.</summary>
    public int ConnectionQueueCapacity { get; set; } = 64;

    /// <summary>A connection whose single write takes longer than this is closed as too slow. Default 10 s.</summary>
    public TimeSpan StuckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An SSE stream with nothing to say sends a comment this often, so proxies keep it open. Default 15 s.</summary>
    public TimeSpan SseHeartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Every setting that is out of range, one sentence each naming it by its configuration key (none when all are
    /// fine). The host reports them all at start (an <c>IValidateOptions</c> over this); the hub refuses options with any.
    /// </summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (Tick < TimeSpan.FromMilliseconds(1))
        {
            failures.Add($"Tally:Live:Tick is at least 1 ms (it is {Tick}).");
        }

        if (PresenceInterval < TimeSpan.Zero)
        {
            failures.Add($"Tally:Live:PresenceInterval must not be negative (it is {PresenceInterval}).");
        }

        if (IdleStreamTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Live:IdleStreamTimeout must be more than zero (it is {IdleStreamTimeout}).");
        }

        if (Shards < 1)
        {
            failures.Add($"Tally:Live:Shards is at least 1 (it is {Shards}).");
        }

        if (HistoryLength < 1)
        {
            failures.Add($"Tally:Live:HistoryLength is at least 1 (it is {HistoryLength}).");
        }

        if (ConnectionQueueCapacity < 2)
        {
            failures.Add($"Tally:Live:ConnectionQueueCapacity is at least 2 (it is {ConnectionQueueCapacity}).");
        }

        if (StuckTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Live:StuckTimeout must be more than zero (it is {StuckTimeout}).");
        }

        if (SseHeartbeat <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Live:SseHeartbeat must be more than zero (it is {SseHeartbeat}).");
        }

        return failures;
    }
}
