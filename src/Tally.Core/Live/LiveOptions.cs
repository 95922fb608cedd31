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

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Tick, TimeSpan.FromMilliseconds(1), nameof(Tick));
        ArgumentOutOfRangeException.ThrowIfLessThan(PresenceInterval, TimeSpan.Zero, nameof(PresenceInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleStreamTimeout, TimeSpan.Zero, nameof(IdleStreamTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(Shards, 1, nameof(Shards));
        ArgumentOutOfRangeException.ThrowIfLessThan(HistoryLength, 1, nameof(HistoryLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(ConnectionQueueCapacity, 2, nameof(ConnectionQueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(StuckTimeout, TimeSpan.Zero, nameof(StuckTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SseHeartbeat, TimeSpan.Zero, nameof(SseHeartbeat));
    }
}
