using Microsoft.Extensions.Options;
using Tally.Engine;
using Tally.Projections;
using Tally.Testing;

namespace Tally.Storage.Sqlite.Tests;

/// <summary>The engine specification against the embedded engine as the server runs it: over the SQLite log and snapshots.</summary>
public sealed class SqliteEngineTests : EngineSpecification
{
    private readonly TempFolder _folder = new();
    private readonly List<TallyEngine> _engines = [];
    private readonly List<IAsyncDisposable> _logs = [];

    protected override string ForeignCursor => PollCursor.FromCreation(Clock.GetUtcNow(), "abcdefghij"); // a cluster's

    protected override async Task<EnginesUnderTest> StartEnginesAsync(TallyEngineOptions options)
    {
        var gate = new AppendGate();
        var engine = Create(gate.Wrap(Log()), options);
        await engine.StartAsync(default);
        return new EnginesUnderTest(engine, engine, gate, () => engine.QueuedVotes);
    }

    protected override Task<ITallyEngine> CreateUnstartedAsync() => Task.FromResult<ITallyEngine>(Create(Log(), new TallyEngineOptions()));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        foreach (var log in _logs)
        {
            await log.DisposeAsync();
        }

        _folder.Dispose();
    }

    private TallyEngine Create(IEventLog log, TallyEngineOptions options)
    {
        var storage = Options.Create(new SqliteStorageOptions { DataPath = _folder.Path, FileName = $"tally-{_engines.Count}.db" });
        var engine = new TallyEngine(log, new SqliteSnapshotStore(storage), options, Clock);
        _engines.Add(engine);
        return engine;
    }

    private SqliteEventLog Log()
    {
        var log = new SqliteEventLog(Options.Create(new SqliteStorageOptions { DataPath = _folder.Path, FileName = $"tally-{_engines.Count}.db" }));
        _logs.Add(log);
        return log;
    }
}
