using Tally.Engine;
using Tally.Live;
using Tally.Projections;
using Tally.Testing;

namespace Tally.Core.Tests.Simulation;

/// <summary>
/// A live watcher of one poll through one engine life: a <see cref="LiveHub"/> on the engine's catalog (attached before
/// it starts) and a connection that checks what it is written: a snapshot never below what it had, a delta only when it
/// continues what it has (its previous seq at or before the watcher's, its seq after it), so seqs only go up and every gap
/// is healed by a snapshot. At a check it must reach the served results within a deadline.
/// </summary>
internal sealed class SimWatcher : LiveConnection, IAsyncDisposable
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(10);
    private readonly LiveHub _hub;
    private readonly SimHistory _history;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private string? _pollId;
    private Task _run = Task.CompletedTask;
    private long _seq;
    private PollResults? _last;

    public SimWatcher(PollCatalog catalog, ManualTimeProvider clock, SimHistory history, long floor)
        : base(new LiveOptions())
    {
        _history = history;
        _seq = floor;
        _hub = new LiveHub(catalog, new LiveOptions { Shards = 1, Tick = TimeSpan.FromMilliseconds(2) }, clock);
        _hub.Start();
    }

    public int Snapshots { get; private set; }

    public int Deltas { get; private set; }

    /// <summary>The highest seq this watcher was written (the next life's watcher must not start below it).</summary>
    public long Seq
    {
        get
        {
            lock (_gate)
            {
                return _seq;
            }
        }
    }

    /// <summary>Subscribes to the poll once the engine runs.</summary>
    public async Task WatchAsync(TallyEngine engine, string pollId)
    {
        _pollId = pollId;
        if ((await engine.WatchAsync(pollId, CancellationToken.None)).Value is null || !_hub.Subscribe(this, pollId, since: null))
        {
            _history.Violation($"the watcher could not subscribe to {pollId}");
            return;
        }

        _run = RunAsync(_stop.Token);
    }

    /// <summary>Waits until the watcher has the served results of its poll, then compares them.</summary>
    public async Task CheckAsync(TallyEngine engine, string when)
    {
        if (_pollId is null || (await engine.GetResultsAsync(_pollId, CancellationToken.None)).Value is not { } served)
        {
            return;
        }

        var deadline = DateTime.UtcNow + Converge;
        while (Seq < served.Seq && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1);
        }

        lock (_gate)
        {
            if (_last is null || _last.Seq != served.Seq || !_last.Counts.SequenceEqual(served.Counts))
            {
                _history.Violation($"{when}: the watcher of {_pollId} has seq {_last?.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} [{string.Join(",", _last?.Counts ?? [])}], the engine serves seq {served.Seq} [{string.Join(",", served.Counts)}]");
            }
        }
    }

    protected override ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            switch (message.Kind)
            {
                case LiveMessageKind.Snapshot:
                    Snapshots++;
                    Interlocked.Increment(ref _history.LiveSnapshots);
                    if (message.Seq < _seq)
                    {
                        _history.Violation($"the watcher of {message.PollId} had seq {_seq}, then a snapshot at seq {message.Seq}");
                    }

                    break;
                case LiveMessageKind.Delta when message.IsPresenceOnly:
                    return ValueTask.CompletedTask;
                case LiveMessageKind.Delta:
                    Deltas++;
                    Interlocked.Increment(ref _history.LiveDeltas);
                    if (_last is null || message.PreviousSeq > _last.Seq || message.Seq <= _last.Seq)
                    {
                        _history.Violation($"the watcher of {message.PollId} had seq {_last?.Seq}, then a delta from {message.PreviousSeq} to {message.Seq}");
                    }

                    break;
                default:
                    return ValueTask.CompletedTask;
            }

            _seq = Math.Max(_seq, message.Seq);
            _last = message.Results;
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
        }

        await _hub.DisposeAsync();
        _stop.Dispose();
    }
}
