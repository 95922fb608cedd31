namespace Tally.Engine;

/// <summary>Settings of the engine (section <c>Tally:Engine</c>).</summary>
public sealed class TallyEngineOptions
{
    /// <summary>
    /// After a failed append a partition reads the log back before it decides anything else (a store that wrote and then
    /// reported a failure must not get the same seqs twice). Only the fault simulation's test turns it off, to show that
    /// the simulation catches the loss without it.
    /// </summary>
    internal bool ReadBackAfterFailedAppend { get; set; } = true;

    /// <summary>Single-writer partitions polls are spread over by id. Default 4.</summary>
    public int Partitions { get; set; } = 4;

    /// <summary>Votes that may wait in one partition's queue; past it ingest answers 503. Default 50,000.</summary>
    public int QueueCapacity { get; set; } = 50_000;

    /// <summary>Most votes one partition decides and appends in one go (one group commit). Default 8,192.</summary>
    public int MaxBatch { get; set; } = 8_192;

    /// <summary>Take a snapshot after this many events since the last one. Default 200,000.</summary>
    public long SnapshotEveryEvents { get; set; } = 200_000;

    /// <summary>Take a snapshot at least this often when anything changed. Default 5 minutes.</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an idempotency key is remembered. Default 24 hours (the minimum the contract promises).</summary>
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often polls whose <c>closesAt</c> passed are closed. Default 1 second.</summary>
    public TimeSpan ExpiryCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The least time between two publications of a ranking poll's results. Publishing recounts the instant runoff over
    /// every distinct ranking, so a commit sooner than this after the last publication waits, and is published (with
    /// every commit after it) when the time is up; a vote after a quiet spell, and closing, publish at once. Results and
    /// live messages never carry a runoff older than their seq; during a burst they trail the acknowledged votes by up to
    /// this much. 0 publishes after every commit. Default 250 ms.
    /// </summary>
    public TimeSpan RankingPublishDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Every setting that is out of range, one sentence each naming it by its configuration key (none when all are
    /// fine). The host reports them all at start (an <c>IValidateOptions</c> over this); the engines refuse options with any.
    /// </summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (Partitions is < 1 or > 256)
        {
            failures.Add($"Tally:Engine:Partitions is from 1 to 256 (it is {Partitions}).");
        }

        if (QueueCapacity < 1)
        {
            failures.Add($"Tally:Engine:QueueCapacity is at least 1 (it is {QueueCapacity}).");
        }

        if (MaxBatch < 1)
        {
            failures.Add($"Tally:Engine:MaxBatch is at least 1 (it is {MaxBatch}).");
        }

        if (SnapshotEveryEvents < 1)
        {
            failures.Add($"Tally:Engine:SnapshotEveryEvents is at least 1 (it is {SnapshotEveryEvents}).");
        }

        if (SnapshotInterval <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Engine:SnapshotInterval must be more than zero (it is {SnapshotInterval}).");
        }

        if (IdempotencyRetention < TimeSpan.FromHours(24))
        {
            failures.Add($"Tally:Engine:IdempotencyRetention is at least 24 hours, the contract's minimum (it is {IdempotencyRetention}).");
        }

        if (ExpiryCheckInterval <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Engine:ExpiryCheckInterval must be more than zero (it is {ExpiryCheckInterval}).");
        }

        if (RankingPublishDelay < TimeSpan.Zero || RankingPublishDelay > TimeSpan.FromSeconds(10))
        {
            failures.Add($"Tally:Engine:RankingPublishDelay is from 0 to 10 seconds (it is {RankingPublishDelay}).");
        }

        return failures;
    }

    /// <summary>The constructor-time guard of the engines: <see cref="ArgumentException"/> naming every <see cref="Failures"/>.</summary>
    internal void ThrowIfInvalid(string paramName)
    {
        if (Failures() is { Count: > 0 } failures)
        {
            throw new ArgumentException(string.Join(" ", failures), paramName);
        }
    }
}
