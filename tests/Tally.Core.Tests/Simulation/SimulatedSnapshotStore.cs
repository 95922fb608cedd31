using Tally.Storage;

namespace Tally.Core.Tests.Simulation;

/// <summary>The snapshot store of one engine's life on the <see cref="SimulatedDisk"/>: saves may fail, and after a crash they never land.</summary>
internal sealed class SimulatedSnapshotStore(SimulatedDisk disk, int epoch) : ISnapshotStore
{
    public Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        try
        {
            disk.Save(epoch, snapshot);
            return Task.CompletedTask;
        }
        catch (IOException ex)
        {
            return Task.FromException(ex);
        }
    }

    public Task<Snapshot?> LoadLatestAsync(CancellationToken cancellationToken) => Task.FromResult(disk.LoadLatest());
}
