namespace Tally.Storage;

/// <summary>The port to where snapshots of the engine's state are kept, so a restart replays only the log's tail.</summary>
public interface ISnapshotStore
{
    /// <summary>Saves <paramref name="snapshot"/> durably; older snapshots may be pruned.</summary>
    Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken);

    /// <summary>The newest snapshot, or null when there is none.</summary>
    Task<Snapshot?> LoadLatestAsync(CancellationToken cancellationToken);
}
