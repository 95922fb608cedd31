namespace Tally.LoadGen;

/// <summary>One scenario run, as written with <c>--json</c> and read back by <c>report</c>.</summary>
internal sealed record RunResult
{
    public required string Scenario { get; init; }

    public required string Target { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    /// <summary><c>ingest-single</c> against Tally: the kind of the polls voted on (single, rating, ranking).</summary>
    public string? Kind { get; init; }

    /// <summary><c>ingest-auth</c>: the credential mode (<see cref="AuthSetup.Modes"/>).</summary>
    public string? Auth { get; init; }

    /// <summary><c>ingest-auth</c>: votes each voter (each token) casts, one per poll.</summary>
    public int? VotesPerToken { get; init; }

    /// <summary><c>ingest-auth</c>: whether the prepared voters ran out before the window ended (votes/s understated).</summary>
    public bool? VotersRanOut { get; init; }

    public required int Concurrency { get; init; }

    public required int Batch { get; init; }

    public required int Polls { get; init; }

    public required double WarmupSeconds { get; init; }

    public required double DurationSeconds { get; init; }

    /// <summary>Acknowledged votes per second over the measured window (2xx single votes; <c>counted</c> results of batches).</summary>
    public required double VotesPerSecond { get; init; }

    public required double RequestsPerSecond { get; init; }

    public required double P50Ms { get; init; }

    public required double P90Ms { get; init; }

    public required double P99Ms { get; init; }

    public required double P999Ms { get; init; }

    public required double MaxMs { get; init; }

    public required long Sent { get; init; }

    public required long AckedVotes { get; init; }

    public required long RejectedVotes { get; init; }

    public required long Overloaded { get; init; }

    public required long Errors { get; init; }

    public required long Indeterminate { get; init; }

    public string? FirstProblem { get; init; }

    /// <summary>Sum of <c>totalVotes</c> over the run's polls after it (Tally only).</summary>
    public long? CountedByServer { get; init; }

    /// <summary>True when the server counted exactly the acknowledged votes (Tally only).</summary>
    public bool? Verified { get; init; }

    /// <summary>Server CPU seconds (user + system) spent inside the measured window.</summary>
    public double? ServerCpuSeconds { get; init; }

    /// <summary>Server peak resident memory (VmHWM) since it started, in MiB, read after the run.</summary>
    public double? ServerPeakRssMiB { get; init; }

    /// <summary>The load generator's own CPU seconds inside the window (it shares the machine's cores with the server).</summary>
    public required double LoadGenCpuSeconds { get; init; }

    /// <summary>CPU seconds the rest of the machine spent inside the window (busy CPU of all cores less server and load generator): noise.</summary>
    public required double OtherCpuSeconds { get; init; }

    /// <summary>Seconds the machine's cores sat idle waiting on I/O inside the window (all cores).</summary>
    public required double IoWaitSeconds { get; init; }
}
