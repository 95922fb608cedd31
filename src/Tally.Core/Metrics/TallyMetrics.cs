using System.Diagnostics.Metrics;
using Tally.Engine;
using Tally.Live;
using Tally.Polls;

namespace Tally.Metrics;

/// <summary>
/// The <c>Tally</c> meter and its instruments: what the engine and the live hub count, for an operator.
/// One instance per host (the server registers one and hands it to the engine and the hub); an engine or
/// hub created without one makes its own and disposes it, so engines in one process stay apart. Hot paths
/// add once per batch or broadcast with tags made in advance (no allocation); gauges read existing state
/// when a reader collects. The README's "Metrics" section lists the series.
/// </summary>
public sealed class TallyMetrics : IDisposable
{
    public const string MeterName = "Tally";

    private static readonly KeyValuePair<string, object?> Counted = new("outcome", "counted");
    private static readonly KeyValuePair<string, object?> Changed = new("outcome", "changed");
    private static readonly KeyValuePair<string, object?> Duplicate = new("outcome", "duplicate");
    private static readonly KeyValuePair<string, object?> Replayed = new("outcome", "replayed");
    private static readonly KeyValuePair<string, object?> Rejected = new("outcome", "rejected");
    private static readonly KeyValuePair<string, object?>[] Reasons = Enum.GetValues<RejectionKind>()
        .Select(k => new KeyValuePair<string, object?>("reason", ReasonName(k))).ToArray();

    private static readonly KeyValuePair<string, object?> Open = new("status", "open");
    private static readonly KeyValuePair<string, object?> Closed = new("status", "closed");

    private readonly bool _ownsMeter;
    private readonly Counter<long> _votes;
    private readonly Counter<long> _queueFull;
    private readonly Histogram<double> _appendDuration;
    private readonly Histogram<int> _appendEvents;
    private readonly Counter<long> _appendErrors;
    private readonly Counter<long> _snapshots;
    private readonly Counter<long> _deltas;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _overflows;
    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _slowConsumers;
    private readonly Counter<long> _limitRefusals;

    // What the gauges read, copied on write (engines come and go in cluster mode; reads happen per collection).
    private readonly Lock _gate = new();
    private TallyEngine[] _engines = [];
    private LiveHub[] _hubs = [];

    /// <summary>Makes the instruments on a meter from <paramref name="meterFactory"/> (the host's, which owns it), or on a meter of its own.</summary>
    public TallyMetrics(IMeterFactory? meterFactory = null)
    {
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);

        _votes = Meter.CreateCounter<long>(
            "tally.votes", "{vote}", "Ballots the engine answered, by outcome: counted, changed, duplicate (the voter had voted), replayed (an Idempotency-Key retry answered again, not counted again) or rejected (with a reason).");
        _queueFull = Meter.CreateCounter<long>(
            "tally.ingest.queue_full", "{request}", "Vote requests (a single vote or a whole batch) refused with 503 overloaded because a partition's queue was full.");
        Meter.CreateObservableGauge("tally.ingest.queued_votes", ObserveQueuedVotes, "{vote}", "Votes waiting in the partitions' queues.");
        _appendDuration = Meter.CreateHistogram(
            "tally.eventlog.append.duration", "s", "Time for one partition's batch of events to become durable in the event log (the group commit included).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _appendEvents = Meter.CreateHistogram(
            "tally.eventlog.append.events", "{event}", "Events per partition batch appended to the event log (its count is the number of appends).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] });
        _appendErrors = Meter.CreateCounter<long>("tally.eventlog.append.errors", "{append}", "Appends that failed (their votes were answered 503 unavailable and nothing of them was counted).");
        _snapshots = Meter.CreateCounter<long>("tally.snapshots", "{snapshot}", "Snapshots of the engine's state written.");
        Meter.CreateObservableGauge("tally.polls", ObservePolls, "{poll}", "Polls in the engine's read model (in cluster mode: in the partitions this node owns), by status.");

        Meter.CreateObservableGauge("tally.live.watchers", ObserveWatchers, "{watcher}", "Subscriptions to polls on this node: a connection watching three polls counts three.");
        _connections = Meter.CreateUpDownCounter<long>("tally.live.connections", "{connection}", "Open watcher connections, by transport (sse, websocket, grpc).");
        _deltas = Meter.CreateCounter<long>("tally.live.deltas", "{delta}", "Deltas published: at most one per poll per tick, each shared by every watcher of the poll.");
        _messages = Meter.CreateCounter<long>(
            "tally.live.messages", "{message}", "Messages handed to watchers' connections (snapshots, deltas, closed): one message to N watchers counts N.");
        _overflows = Meter.CreateCounter<long>(
            "tally.live.overflows", "{collapse}", "Times a watcher's queue was full and it was collapsed to latest state (its backlog dropped, a fresh snapshot sent).");
        _slowConsumers = Meter.CreateCounter<long>(
            "tally.live.slow_consumers", "{connection}", "Watcher connections closed because a write stayed stuck past the stuck timeout, by transport.");
        _limitRefusals = Meter.CreateCounter<long>(
            "tally.limits.refused", "{request}",
            "Requests, ops and connections refused by an abuse limit, by limit: ip, voter, key, new_voter (rate limits), socket_messages (a WebSocket's op rate), streams, connections (caps per address).");
    }

    /// <summary>The <c>Tally</c> meter (tests listen to this instance only).</summary>
    public Meter Meter { get; }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose(); // a meter from a factory is the factory's to dispose
        }
    }

    /// <summary>The tag of a transport, for <see cref="ConnectionOpened"/>, <see cref="ConnectionClosed"/> and <see cref="SlowConsumerClosed"/>.</summary>
    public static KeyValuePair<string, object?> Transport(string name) => new("transport", name);

    /// <summary>Adds the ballots a partition decided in one batch that is now durable, and clears <paramref name="tally"/>.</summary>
    internal void RecordVotes(VoteTally tally)
    {
        if (tally.Counted > 0)
        {
            _votes.Add(tally.Counted, Counted);
        }

        if (tally.Changed > 0)
        {
            _votes.Add(tally.Changed, Changed);
        }

        if (tally.Replayed > 0)
        {
            _votes.Add(tally.Replayed, Replayed);
        }

        for (var kind = 0; kind < tally.Rejected.Length; kind++)
        {
            if (tally.Rejected[kind] > 0)
            {
                RecordRejected((RejectionKind)kind, tally.Rejected[kind]);
            }
        }

        tally.Clear();
    }

    /// <summary>
    /// Counts <paramref name="votes"/> ballots refused with <paramref name="kind"/> in <c>tally_votes_total</c> (already-voted
    /// as <c>duplicate</c>, the others as <c>rejected</c> with their reason), for a host that refuses ballots before they
    /// reach the engine (admission, rate limits); the engine counts its own answers.
    /// </summary>
    public void RecordRejected(RejectionKind kind, long votes = 1)
    {
        if (kind == RejectionKind.AlreadyVoted)
        {
            _votes.Add(votes, Duplicate);
        }
        else
        {
            _votes.Add(votes, Rejected, Reasons[(int)kind]);
        }
    }

    /// <summary>A request for <paramref name="votes"/> votes was refused because a queue was full.</summary>
    internal void RecordQueueFull(long votes)
    {
        _queueFull.Add(1);
        RecordRejected(RejectionKind.Overloaded, votes);
    }

    internal void RecordAppend(int events, TimeSpan duration)
    {
        _appendEvents.Record(events);
        _appendDuration.Record(duration.TotalSeconds);
    }

    internal void RecordAppendError() => _appendErrors.Add(1);

    internal void RecordSnapshot() => _snapshots.Add(1);

    internal void RecordDelta() => _deltas.Add(1);

    /// <summary>One message offered to <paramref name="watchers"/> connections.</summary>
    internal void RecordMessages(int watchers)
    {
        if (watchers > 0)
        {
            _messages.Add(watchers);
        }
    }

    internal void RecordOverflow() => _overflows.Add(1);

    /// <summary>A transport opened a watcher connection (<paramref name="transport"/> from <see cref="Transport"/>).</summary>
    public void ConnectionOpened(KeyValuePair<string, object?> transport) => _connections.Add(1, transport);

    public void ConnectionClosed(KeyValuePair<string, object?> transport) => _connections.Add(-1, transport);

    /// <summary>A transport closed a watcher whose write was stuck (it caught a <see cref="SlowConsumerException"/>).</summary>
    public void SlowConsumerClosed(KeyValuePair<string, object?> transport) => _slowConsumers.Add(1, transport);

    /// <summary>A request, op or connection refused by the abuse limit named <paramref name="limit"/> (a handful of fixed names).</summary>
    public void RecordLimitRefused(string limit) => _limitRefusals.Add(1, new KeyValuePair<string, object?>("limit", limit));

    internal void Track(TallyEngine engine)
    {
        lock (_gate)
        {
            _engines = [.. _engines.Where(e => e != engine), engine];
        }
    }

    internal void Untrack(TallyEngine engine)
    {
        lock (_gate)
        {
            _engines = [.. _engines.Where(e => e != engine)];
        }
    }

    internal void Track(LiveHub hub)
    {
        lock (_gate)
        {
            _hubs = [.. _hubs.Where(h => h != hub), hub];
        }
    }

    internal void Untrack(LiveHub hub)
    {
        lock (_gate)
        {
            _hubs = [.. _hubs.Where(h => h != hub)];
        }
    }

    /// <summary>The label of a rejection reason: the kind in snake case (<c>unknown_option</c>).</summary>
    internal static string ReasonName(RejectionKind kind) => kind switch
    {
        RejectionKind.Invalid => "invalid",
        RejectionKind.UnknownOption => "unknown_option",
        RejectionKind.UnknownPoll => "unknown_poll",
        RejectionKind.PollClosed => "poll_closed",
        RejectionKind.AlreadyVoted => "already_voted",
        RejectionKind.IdempotencyKeyReused => "idempotency_key_reused",
        RejectionKind.Overloaded => "overloaded",
        RejectionKind.Unavailable or RejectionKind.IdTaken => "unavailable",
        RejectionKind.RateLimited => "rate_limited",
        RejectionKind.Unauthorized => "unauthorized",
        RejectionKind.Forbidden => "forbidden",
        RejectionKind.ResultsHidden => "results_hidden",
        RejectionKind.PollNotOpen => "poll_not_open",
        RejectionKind.InvalidTransition => "invalid_transition",
        RejectionKind.QuestionLimit => "question_limit",
        RejectionKind.QuestionsFull => "questions_full",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private int ObserveQueuedVotes() => Volatile.Read(ref _engines).Sum(e => e.QueuedVotes);

    private IEnumerable<Measurement<int>> ObservePolls()
    {
        int all = 0, open = 0;
        foreach (var engine in Volatile.Read(ref _engines))
        {
            all += engine.Catalog.Count;
            open += engine.Catalog.OpenCount;
        }

        return [new Measurement<int>(open, Open), new Measurement<int>(Math.Max(0, all - open), Closed)]; // read apart: a creation may fall between
    }

    private int ObserveWatchers() => Volatile.Read(ref _hubs).Sum(h => h.TotalWatchers);

}
