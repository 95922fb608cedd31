namespace Tally.Engine;

/// <summary>Settings of the engine (section <c>Tally:Engine</c>).</summary>
public sealed class TallyEngineOptions
{
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

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Partitions, 1, nameof(Partitions));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Partitions, 256, nameof(Partitions));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatch, 1, nameof(MaxBatch));
        ArgumentOutOfRangeException.ThrowIfLessThan(SnapshotEveryEvents, 1, nameof(SnapshotEveryEvents));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SnapshotInterval, TimeSpan.Zero, nameof(SnapshotInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(IdempotencyRetention, TimeSpan.FromHours(24), nameof(IdempotencyRetention));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ExpiryCheckInterval, TimeSpan.Zero, nameof(ExpiryCheckInterval));
    }
}
