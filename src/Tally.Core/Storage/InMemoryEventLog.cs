using System.Runtime.CompilerServices;
using Tally.Events;

namespace Tally.Storage;

/// <summary>An event log in memory: for tests and for trying the engine without a disk. Not durable.</summary>
public sealed class InMemoryEventLog : IEventLog
{
    public Durability Durability { get; } = new("In memory only: every acknowledged vote is lost when the process ends.", AtRisk: true);

    private readonly List<PollEvent> _events = [];
    private readonly Lock _gate = new();
    private long _committed;

    public long CommittedPosition => Volatile.Read(ref _committed);

    public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask<long> AppendAsync(IReadOnlyList<PollEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var first = _events.Count + 1;
            _events.AddRange(events);
            Volatile.Write(ref _committed, _events.Count);
            return ValueTask.FromResult((long)first);
        }
    }

    public async IAsyncEnumerable<StoredEvent> ReadAsync(long afterPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        var position = afterPosition;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            PollEvent e;
            lock (_gate)
            {
                if (position >= _events.Count)
                {
                    yield break;
                }

                e = _events[(int)position];
            }

            position++;
            yield return new StoredEvent(position, e);
        }
    }

    public Task<bool> IsHealthyAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
