namespace Tally.Storage;

/// <summary>Keeps the latest snapshot in memory: for tests and the in-memory engine.</summary>
public sealed class InMemorySnapshotStore : ISnapshotStore
{
    private Snapshot? _latest;

    public Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Volatile.Write(ref _latest, snapshot);
        return Task.CompletedTask;
    }

    public Task<Snapshot?> LoadLatestAsync(CancellationToken cancellationToken) => Task.FromResult(Volatile.Read(ref _latest));
}
