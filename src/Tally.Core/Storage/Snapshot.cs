namespace Tally.Storage;

/// <summary>
/// The engine's state in serialized form. Replaying the log from <see cref="ReplayFrom"/> on top of it
/// (skipping events whose seq a poll already has) gives the state at the end of the log.
/// </summary>
/// <param name="ReplayFrom">Every event at or before this position is already reflected in <see cref="Data"/>.</param>
/// <param name="TakenAt">When the snapshot was taken.</param>
/// <param name="Data">The engine's own format; opaque to stores.</param>
public sealed record Snapshot(long ReplayFrom, DateTimeOffset TakenAt, byte[] Data);
