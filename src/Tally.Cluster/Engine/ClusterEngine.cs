using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;
using StackExchange.Redis;
using Tally.Cluster.EventLog;
using Tally.Cluster.Ledger;
using Tally.Cluster.ReadModels;
using Tally.Cluster.Snapshots;
using Tally.Engine;
using Tally.Metrics;
using Tally.Polls;
using Tally.Projections;
using Tally.Storage;

namespace Tally.Cluster.Engine;

/// <summary>
/// One node of a cluster. Polls fall into <see cref="ClusterOptions.Partitions"/> partitions by FNV-1a of their
/// id; each partition is a subject of the event stream and has one owner at a time (a lease in JetStream KV).
/// The owner runs the embedded engine's single-writer code (<see cref="TallyEngine"/> with one partition) over
/// a <see cref="JetStreamEventLog"/> on that subject; any other node forwards the partition's commands to it by
/// NATS request/reply. Every node follows the whole stream into its own <see cref="Catalog"/> (the read model
/// its queries and live hub use), so nodes keep no state a client depends on and any node serves any request.
/// </summary>
public sealed class ClusterEngine : ITallyEngine, IAsyncDisposable
{
    private readonly INatsConnection _nats;
    private readonly ClusterOptions _options;
    private readonly TallyEngineOptions _partitionOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StreamFollower _follower;
    private readonly CommandForwarding _forwarding;
    private readonly PartitionOwnership _ownership;
    private readonly Lock _headGate = new();
    private INatsJSStream? _stream;
    private Task<ulong>? _head;
    private Task<ulong>? _nextHead;
    private volatile bool _running;

    /// <param name="ledger">PostgreSQL for the ledger (poll definitions, ballots); null runs without one.</param>
    /// <param name="redis">Redis for the results read models; null runs without them.</param>
    public ClusterEngine(INatsConnection nats, ClusterOptions options, TallyEngineOptions engineOptions, TimeProvider? time = null, ILogger? logger = null, NpgsqlDataSource? ledger = null, IConnectionMultiplexer? redis = null, TallyMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(nats);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engineOptions);
        options.Validate();
        engineOptions.Validate();
        _nats = nats;
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _partitionOptions = new TallyEngineOptions
        {
            Partitions = 1, // a cluster partition is one single writer
            QueueCapacity = engineOptions.QueueCapacity,
            MaxBatch = Math.Min(engineOptions.MaxBatch, 2048), // a batch is one NATS message: keep it well under the default 1 MB max payload
            SnapshotEveryEvents = engineOptions.SnapshotEveryEvents,
            SnapshotInterval = engineOptions.SnapshotInterval,
            IdempotencyRetention = engineOptions.IdempotencyRetention,
            ExpiryCheckInterval = engineOptions.ExpiryCheckInterval,
        };
        _follower = new StreamFollower(Catalog, _logger);
        _forwarding = new CommandForwarding(nats, options, p => _ownership!.Local(p), _logger);
        _ownership = new PartitionOwnership(nats, options, _partitionOptions, _time, _logger, _forwarding, OnAcquired, OnLosingAsync,
            p => ledger is null ? new InMemorySnapshotStore() : new PostgresSnapshotStore(ledger, options.StreamName, p, _logger),
            (where, ex) => Faulted?.Invoke(where, ex),
            metrics);
        Ledger = ledger is null ? null : new LedgerProjector(nats, options, ledger, _logger);
        ReadModel = redis is null ? null : new RedisReadModel(redis, options, Catalog, _logger);
    }

    /// <summary>The Redis read models' writer; it runs on the node that owns partition 0, like the ledger.</summary>
    internal RedisReadModel? ReadModel { get; }

    /// <summary>The ledger's projector; it runs on the node that owns partition 0.</summary>
    internal LedgerProjector? Ledger { get; }

    /// <summary>Raised on a fault the node survives; the host logs it.</summary>
    public event Action<string, Exception>? Faulted;

    /// <summary>This node's read model of every poll, fed from the event stream.</summary>
    public PollCatalog Catalog { get; } = new();

    /// <summary>True while the node takes commands and its read model follows the stream (readiness: <c>engine</c>).</summary>
    public bool IsRunning => _running && _follower.Failure is null;

    public string NodeId => _options.NodeId;

    /// <summary>The partitions this node owns now.</summary>
    public IReadOnlyCollection<int> OwnedPartitions => _ownership.Owned;

    /// <summary>Polls in the read model when the node became ready (the start-up log line).</summary>
    public long ReplayedEvents { get; private set; }

    /// <summary>Events replayed when this node took <paramref name="partition"/> (after its snapshot); -1 when not owned.</summary>
    internal long ReplayedEventsOf(int partition) => _ownership.ReplayedEvents(partition);

    /// <summary>The stream sequence this node's read model has applied.</summary>
    public ulong AppliedSequence => _follower.AppliedSequence;

    /// <summary>Connects to the stream and buckets, catches the read model up, takes a share of the partitions, and starts renewing.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var js = new NatsJSContext(_nats);
        if (_nats is NatsConnection connection)
        {
            await connection.ConnectAsync().ConfigureAwait(false);
        }

        var stream = await JetStreamEventLog.EnsureStreamAsync(js, _options.StreamName, _options.EventSubjectPrefix, _options.Replicas, TimeSpan.FromMinutes(2), cancellationToken).ConfigureAwait(false);
        _stream = stream;
        await _ownership.OpenAsync(cancellationToken).ConfigureAwait(false);
        await _follower.StartAsync(stream, cancellationToken).ConfigureAwait(false);
        await _follower.CaughtUp.WaitAsync(cancellationToken).ConfigureAwait(false);
        ReplayedEvents = Catalog.Count;
        _running = true;
        await _ownership.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hands every partition over (answering what is queued), leaves the cluster, stops following.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_running)
        {
            return;
        }

        _running = false;
        await _ownership.StopAsync(cancellationToken).ConfigureAwait(false);
        await _follower.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _ownership.Dispose();
    }

    /// <summary>
    /// The poll's definition from this node's read model; a poll it has not seen (created a moment ago through
    /// another node, or none at all) is looked up again once the read model has caught up with the stream's head.
    /// </summary>
    public async ValueTask<PollDefinition?> FindPollAsync(string pollId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        var known = Catalog.FindPoll(pollId);
        if (known is not null || _stream is null || !_running)
        {
            return known;
        }

        try
        {
            var head = await StreamHeadAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
            await _follower.WaitForAsync(head, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // NATS is away or the read model lags: answer from what this node has.
        }

        return Catalog.FindPoll(pollId);
    }

    /// <summary>
    /// The stream's last sequence, as of a request sent after this call began (an older answer may predate
    /// what the caller was acknowledged before asking). Calls that come while a request is out share the one
    /// sent after it, so a burst of lookups for unknown polls costs NATS two requests, not one each.
    /// </summary>
    private Task<ulong> StreamHeadAsync()
    {
        lock (_headGate)
        {
            if (_head is not { IsCompleted: false } current)
            {
                return _head = FetchHeadAsync();
            }

            return _nextHead ??= FetchAfterAsync(current);
        }

        async Task<ulong> FetchAfterAsync(Task previous)
        {
            await Task.WhenAny(previous).ConfigureAwait(false); // its outcome is its own callers'
            Task<ulong> fetch;
            lock (_headGate)
            {
                _nextHead = null;
                fetch = _head = FetchHeadAsync();
            }

            return await fetch.ConfigureAwait(false);
        }
    }

    private async Task<ulong> FetchHeadAsync()
    {
        await _stream!.RefreshAsync(CancellationToken.None).ConfigureAwait(false);
        return _stream.Info.State.LastSeq;
    }

    /// <summary>Creates a poll on the owner of the partition its new id falls in.</summary>
    public async Task<Outcome<PollResults>> CreatePollAsync(CreatePoll command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        var id = TallyEngine.NewPollId();
        return await ReadOwnWriteAsync(await RouteAsync(
            PartitionOf(id),
            engine => engine.CreatePollAsync(command, id),
            new ForwardedCommand(ForwardedKind.Create, Create: command, PollId: id),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Closes a poll on its partition's owner.</summary>
    public async Task<Outcome<PollResults>> ClosePollAsync(string pollId)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        return await ReadOwnWriteAsync(await RouteAsync(
            PartitionOf(pollId),
            engine => engine.ClosePollAsync(pollId),
            new ForwardedCommand(ForwardedKind.Close, PollId: pollId),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false)).ConfigureAwait(false);
    }

    /// <summary>Casts one ballot on its partition's owner; the outcome is durable unless it is a rejection.</summary>
    public async ValueTask<VoteOutcome> CastVoteAsync(CastVote vote)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (Refusal() is { } refused)
        {
            return VoteOutcome.Rejected(refused);
        }

        var outcome = await RouteAsync(
            PartitionOf(vote.PollId),
            engine => engine.CastVoteAsync(vote).AsTask(),
            new ForwardedCommand(ForwardedKind.Vote, Vote: vote),
            (reply, p) => reply.Vote ?? VoteOutcome.Rejected(reply.Rejection ?? Unavailable(p))).ConfigureAwait(false);
        if (outcome.Rejection is null)
        {
            await ReadOwnWriteAsync(vote.PollId, outcome.Seq).ConfigureAwait(false);
        }

        return outcome;
    }

    /// <summary>
    /// Casts many ballots: each partition's share goes to its owner at once. Unlike embedded mode, admission is
    /// all or nothing per partition, not per batch: a share its owner cannot take is answered item by item
    /// (rejected, unavailable or overloaded) while the other shares count.
    /// </summary>
    public async Task<Outcome<VoteOutcome[]>> CastVotesAsync(IReadOnlyList<CastVote> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        var results = new VoteOutcome[votes.Count];
        var shares = Enumerable.Range(0, votes.Count).GroupBy(i => PartitionOf(votes[i].PollId));
        await Task.WhenAll(shares.Select(async share =>
        {
            var indexes = share.ToArray();
            var part = indexes.Select(i => votes[i]).ToArray();
            var outcome = await RouteAsync(
                share.Key,
                engine => engine.CastVotesAsync(part),
                new ForwardedCommand(ForwardedKind.Votes, Votes: part),
                (reply, p) => reply.Votes is { } answered ? answered : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);

            for (var k = 0; k < indexes.Length; k++)
            {
                results[indexes[k]] = outcome.Value is { } values ? values[k] : VoteOutcome.Rejected(outcome.Rejection!);
            }
        })).ConfigureAwait(false);
        foreach (var poll in Enumerable.Range(0, votes.Count).Where(i => results[i].Rejection is null).GroupBy(i => votes[i].PollId))
        {
            await ReadOwnWriteAsync(poll.Key, poll.Max(i => results[i].Seq)).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>
    /// Read-your-writes on the node that answered: before a command's answer goes out, this node's read model
    /// has applied it (normally within a millisecond), so the client's next query or watcher here sees it.
    /// Bounded: past a second the answer goes out anyway (it is durable; only this node's view lags).
    /// </summary>
    private async Task ReadOwnWriteAsync(string pollId, long seq)
    {
        try
        {
            await _follower.WaitUntilAsync(() => Catalog.FindResults(pollId)?.Seq >= seq, TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The read model lags (NATS slow or away): the outcome stands.
        }
    }

    private async Task<Outcome<PollResults>> ReadOwnWriteAsync(Outcome<PollResults> outcome)
    {
        if (outcome.Value is { } results)
        {
            await ReadOwnWriteAsync(results.Poll.Id, results.Seq).ConfigureAwait(false);
        }

        return outcome;
    }

    /// <summary>Test hook: stops renewing and serving without releasing anything, as a killed node would.</summary>
    internal async Task AbandonAsync()
    {
        _running = false;
        await _ownership.AbandonAsync().ConfigureAwait(false); // the leases stay until they expire
        await (Ledger?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
        await (ReadModel?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
        await _follower.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Why a command cannot be taken now: the node is not running, or NATS (the log) is not connected.</summary>
    private Rejection? Refusal() =>
        !_running ? Rejection.NotStarted
        : _nats.ConnectionState != NatsConnectionState.Open ? NatsDown
        : null;

    private static readonly Rejection NatsDown = new(RejectionKind.Unavailable, "The event log (NATS) is not reachable from this node, so no vote can be made durable now. Nothing was taken; retry.");

    internal int PartitionOf(string pollId) => TallyEngine.PartitionIndex(pollId, _options.Partitions);

    private TallyEngine? Local(int partition) => _ownership.Local(partition);

    /// <summary>The ledger projector and the Redis read models run on partition 0's owner.</summary>
    private void OnAcquired(int partition)
    {
        if (partition == 0)
        {
            Ledger?.Start();
            ReadModel?.Start();
        }
    }

    private async Task OnLosingAsync(int partition)
    {
        if (partition == 0)
        {
            await (Ledger?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
            await (ReadModel?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
        }
    }

    private static Rejection Unavailable(int partition) => CommandForwarding.Unavailable(partition);

    /// <summary>
    /// Runs a command on the partition's engine when this node owns it, else forwards it to the owner. While
    /// the partition has no owner (it is being handed over, or its owner died and its lease has not expired
    /// yet) the command waits up to <see cref="ClusterOptions.HandoverWait"/> for one before it is refused:
    /// nothing was taken then, so the 503 is safe to retry.
    /// </summary>
    private async Task<T> RouteAsync<T>(int partition, Func<TallyEngine, Task<T>> local, ForwardedCommand command, Func<ForwardedReply, int, T> answer)
    {
        var giveUpAt = _time.GetUtcNow() + _options.HandoverWait;
        var pause = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            if (Local(partition) is { } engine)
            {
                return await local(engine).ConfigureAwait(false);
            }

            var reply = await _forwarding.SendAsync(partition, command).ConfigureAwait(false);
            if (!reply.NoOwner || !_running || _time.GetUtcNow() + pause > giveUpAt)
            {
                return answer(reply, partition);
            }

            await Task.Delay(pause, _time).ConfigureAwait(false);
            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks));
        }
    }
}
