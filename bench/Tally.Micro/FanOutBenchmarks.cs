using BenchmarkDotNet.Attributes;
using Tally.Live;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Micro;

/// <summary>
/// Fan-out of one delta to N in-memory subscribers of one poll: the poll's stream takes new results, builds the delta
/// and offers it to every watcher's bounded queue (<c>PollStream.Flush</c>, what a publisher tick does), and each
/// watcher's <see cref="LiveConnection.RunAsync"/> loop writes it; an invocation ends when all N have written it. No
/// sockets: this is the hub's and the connections' own cost. The publisher loop is not started, so no 50 ms tick paces it.
/// </summary>
[MemoryDiagnoser]
public class FanOutBenchmarks
{
    private readonly FanOutSignal _signal = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private LiveHub _hub = null!;
    private PollStream _stream = null!;
    private PollDefinition _poll = null!;
    private long _seq;

    [Params(1_000, 10_000)]
    public int Watchers { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        _poll = new PollDefinition("bench00001", "Tabs or spaces?", PollKind.Single, 1,
            [new PollOption(1, "Tabs"), new PollOption(2, "Spaces"), new PollOption(3, "Both")], now, null, DedupePolicy.None, false);
        var catalog = new PollCatalog();
        _seq = 1;
        catalog.Publish(Results(), createdPosition: 1);
        var options = new LiveOptions { ConnectionQueueCapacity = 64 };
        _hub = new LiveHub(catalog, options); // not started: Flush is called here, not by a publisher tick
        var snapshots = _signal.Arm(Watchers);
        for (var i = 0; i < Watchers; i++)
        {
            var connection = new CountingConnection(options, _signal);
            _loops.Add(connection.RunAsync(_stop.Token));
            _hub.Subscribe(connection, _poll.Id, since: null);
        }

        await snapshots.WaitAsync(TimeSpan.FromSeconds(60)); // every watcher has written its snapshot
        _stream = _hub.FindStream(_poll.Id) ?? throw new InvalidOperationException("The poll has no stream.");
        _stream.Flush(); // the presence change of all those joins
        await Task.Delay(100);
    }

    [Benchmark]
    public async Task DeltaToAllWatchers()
    {
        var written = _signal.Arm(Watchers);
        _seq++;
        _stream.OnChanged(Results());
        if (!_stream.Flush())
        {
            throw new InvalidOperationException("Nothing to send.");
        }

        await written;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops).ContinueWith(_ => { }, TaskScheduler.Default);
        await _hub.DisposeAsync();
    }

    private PollResults Results() => new(_poll, _seq, PollStatus.Open, null, _seq - 1, [_seq - 1, 0, 0]);
}
