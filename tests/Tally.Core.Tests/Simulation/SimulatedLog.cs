using System.Runtime.CompilerServices;
using Tally.Events;
using Tally.Storage;

namespace Tally.Core.Tests.Simulation;

/// <summary>The event log of one engine's life on the <see cref="SimulatedDisk"/>: dead (appends throw, nothing lands) once the machine crashes.</summary>
internal sealed class SimulatedLog(SimulatedDisk disk, int epoch) : IEventLog
{
    public long CommittedPosition => disk.Committed(epoch);

    public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask<long> AppendAsync(IReadOnlyList<PollEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        try
        {
            return ValueTask.FromResult(disk.Append(epoch, events));
        }
        catch (IOException ex)
        {
            return ValueTask.FromException<long>(ex);
        }
    }

    public async IAsyncEnumerable<StoredEvent> ReadAsync(long afterPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        for (var position = (int)afterPosition; disk.Read(position) is { } e; position++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new StoredEvent(position + 1, e);
        }
    }

    public Task<bool> IsHealthyAsync(CancellationToken cancellationToken) => Task.FromResult(epoch == disk.Epoch);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
