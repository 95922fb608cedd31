using Tally.Engine;
using Tally.Projections;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>The engine specification against the embedded engine over the in-memory log and snapshot store.</summary>
public sealed class InMemoryEngineTests : EngineSpecification
{
    private readonly List<TallyEngine> _engines = [];
    private readonly Dictionary<ITallyEngine, (InMemoryEventLog Log, InMemorySnapshotStore Snapshots)> _storage = new(ReferenceEqualityComparer.Instance);

    protected override string ForeignCursor => PollCursor.FromCreation(Clock.GetUtcNow(), "abcdefghij"); // a cluster's

    protected override Task<EnginesUnderTest> StartEnginesAsync(TallyEngineOptions options) =>
        StartOnAsync(new InMemoryEventLog(), new InMemorySnapshotStore(), options);

    protected override async Task<EnginesUnderTest?> RestartEnginesAsync(EnginesUnderTest engines, TallyEngineOptions options, bool keepSnapshots)
    {
        var (log, snapshots) = _storage[engines.Writer];
        engines.Appends.Open();
        await engines.Writer.StopAsync(default); // the final snapshot
        return await StartOnAsync(log, keepSnapshots ? snapshots : new InMemorySnapshotStore(), options);
    }

    private async Task<EnginesUnderTest> StartOnAsync(InMemoryEventLog log, InMemorySnapshotStore snapshots, TallyEngineOptions options)
    {
        var gate = new AppendGate();
        var engine = new TallyEngine(gate.Wrap(log), snapshots, options, Clock);
        _engines.Add(engine);
        _storage[engine] = (log, snapshots);
        await engine.StartAsync(default);
        return new EnginesUnderTest(engine, engine, gate, () => engine.QueuedVotes);
    }

    protected override Task<ITallyEngine> CreateUnstartedAsync()
    {
        var engine = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), new TallyEngineOptions(), Clock);
        _engines.Add(engine);
        return Task.FromResult<ITallyEngine>(engine);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }
}
