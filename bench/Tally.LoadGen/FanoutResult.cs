namespace Tally.LoadGen;

/// <summary>One <c>fanout</c> run, as written with <c>--json</c> and read back by <c>report-fanout</c>. Latencies in ms, memory in MiB.</summary>
internal sealed record FanoutResult
{
    /// <summary><c>tally</c>, or the baseline the run drove (<c>ceiling</c>, <c>signalr</c>, <c>socketio</c>); older results have none.</summary>
    public string Target { get; init; } = WatchTargets.Tally;

    /// <summary>The baseline's variant (<c>naive</c>, <c>throttled</c>) as the script tells it; null for Tally and the ceiling.</summary>
    public string? Variant { get; init; }

    public required string Transport { get; init; }

    /// <summary>What read the watchers' sockets: dotnet (ClientWebSocket) or node (bench/watchers); null in runs before it was recorded.</summary>
    public string? Client { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required int Watchers { get; init; }

    /// <summary>Polls the watchers and votes are spread over (watcher i and vote i on poll i mod polls); 1 for <c>fanout</c>.</summary>
    public int Polls { get; init; } = 1;

    /// <summary>Votes per second asked for (the schedule).</summary>
    public required double Rate { get; init; }

    public required int Senders { get; init; }

    public required double WarmupSeconds { get; init; }

    public required double DurationSeconds { get; init; }

    public required double ConnectSeconds { get; init; }

    /// <summary>Votes acknowledged whose send fell in the measured window, per second.</summary>
    public required double VotesPerSecond { get; init; }

    public required long VotesSent { get; init; }

    public required long VotesAcked { get; init; }

    public required long VoteErrors { get; init; }

    public required long VotesUnanswered { get; init; }

    /// <summary>Votes of the schedule not sent at all: the senders fell more than the window's end + 1 s behind (an overloaded machine).</summary>
    public long VotesUnsent { get; init; }

    /// <summary>Sends later than 5 ms after their due time, and the latest one: whether the schedule held.</summary>
    public required long LateSends { get; init; }

    public required double MaxSendLatenessMs { get; init; }

    /// <summary>A vote's own HTTP round trip (send → 201), for votes sent in the window.</summary>
    public required double AckP50Ms { get; init; }

    public required double AckP99Ms { get; init; }

    /// <summary>(vote, watcher) pairs measured: votes sent in the window × watchers.</summary>
    public required long Pairs { get; init; }

    /// <summary>Pairs whose watcher never saw the vote's seq (must be 0).</summary>
    public required long MissingPairs { get; init; }

    /// <summary>Vote sent → watcher received, over every (vote, watcher) pair of the window.</summary>
    public required double P50Ms { get; init; }

    public required double P90Ms { get; init; }

    public required double P99Ms { get; init; }

    public required double P999Ms { get; init; }

    public required double MaxMs { get; init; }

    /// <summary>Per vote, when its first watcher saw it (the server's path to one socket) and when its last did (the whole fan-out), sent → received.</summary>
    public required double FirstWatcherP50Ms { get; init; }

    public required double FirstWatcherP99Ms { get; init; }

    public required double LastWatcherP50Ms { get; init; }

    public required double LastWatcherP99Ms { get; init; }

    /// <summary>Messages (deltas, presence included) received by all watchers in the window, per second.</summary>
    public required double MessagesPerSecond { get; init; }

    /// <summary>
    /// Updates delivered in the window, per second: messages that moved a watcher to a newer seq, over all watchers (a
    /// presence-only delta, or a stale baseline message, does not count). Divided by the server's CPU-s: updates per CPU-second.
    /// </summary>
    public double UpdatesPerSecond { get; init; }

    /// <summary>Vote sent → watcher received latency at percentiles 0 … 100 (ms), for the report's percentile curves.</summary>
    public List<CurvePoint> Curve { get; init; } = [];

    public required double? ServerCpuSeconds { get; init; }

    public required double LoadGenCpuSeconds { get; init; }

    public required double OtherCpuSeconds { get; init; }

    public required double IoWaitSeconds { get; init; }

    /// <summary>Server RSS before the watchers connected, once they all had their snapshot and presence settled, and after the votes.</summary>
    public required double? ServerRssBeforeMiB { get; init; }

    public required double? ServerRssWatchingMiB { get; init; }

    public required double? ServerRssAfterMiB { get; init; }

    /// <summary>The server's peak resident memory since it started (VmHWM), read after the run.</summary>
    public double? ServerPeakRssMiB { get; init; }

    /// <summary>(RSS watching − RSS before) / watchers.</summary>
    public required double? KiBPerWatcher { get; init; }

    public required double LoadGenRssMiB { get; init; }

    /// <summary>Baselines: whole-results messages that arrived after a newer one (ignored). Tally's stream never goes back.</summary>
    public long StaleMessages { get; init; }

    /// <summary>What <c>GET /results</c> served after the run, and whether every watcher ended with exactly those counts.</summary>
    public required long ServedSeq { get; init; }

    public required long ServedTotalVotes { get; init; }

    public required bool Verified { get; init; }

    public string? Problem { get; init; }
}

/// <summary>One point of a latency percentile curve: <see cref="Percentile"/> (0 … 100) and its latency in ms.</summary>
internal sealed record CurvePoint(double Percentile, double Ms);
