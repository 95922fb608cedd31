using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;
using StackExchange.Redis;
using Tally.Cluster.EventLog;
using Tally.Cluster.Hosting;
using Tally.Cluster.Live;
using Tally.Cluster.Ledger;
using Tally.Cluster.ReadModels;
using Tally.Cluster.Snapshots;
using Tally.Engine;
using Tally.Events;
using Tally.Live;
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
/// NATS request/reply, queries included (the owner's state is the committed one). The owner publishes each
/// changed poll once per tick on <c>{ns}.live.{pollId}</c>; a node subscribes only to the polls its watchers
/// follow, into its <see cref="Catalog"/>, which its live hub streams. Nodes keep no state a client depends on,
/// so any node serves any request.
/// </summary>
public sealed class ClusterEngine : ITallyEngine, ILiveHubAware, IAsyncDisposable
{
    private readonly INatsConnection _nats;
    private readonly ClusterOptions _options;
    private readonly TallyEngineOptions _partitionOptions;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PollFollower _follower;
    private readonly CommandForwarding _forwarding;
    private readonly PartitionOwnership _ownership;
    private readonly ConcurrentDictionary<int, PartitionDuties> _duties = new();
    private readonly ConcurrentDictionary<string, PollDefinition> _definitions = new(StringComparer.Ordinal);
    private readonly IConnectionMultiplexer? _redis;
    private readonly LedgerWatermark? _watermark;
    private readonly PartitionVotes _votes;
    private volatile bool _running;

    /// <param name="ledger">PostgreSQL for the ledger (poll definitions, ballots); null runs without one.</param>
    /// <param name="redis">Redis for the results read models; null runs without them.</param>
    public ClusterEngine(INatsConnection nats, ClusterOptions options, TallyEngineOptions engineOptions, TimeProvider? time = null, ILogger? logger = null, NpgsqlDataSource? ledger = null, IConnectionMultiplexer? redis = null, TallyMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(nats);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engineOptions);
        if (options.Failures().Concat(engineOptions.Failures()).ToList() is { Count: > 0 } failures)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

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
        _follower = new PollFollower(nats, options, Catalog, GetResultsAsync, _time, _logger);
        if (options.AckAfterLedger)
        {
            _watermark = new LedgerWatermark(nats, options, ledger ?? throw new ArgumentException("Tally:Cluster:AckAfterLedger needs the PostgreSQL ledger (Tally:Postgres:ConnectionString).", nameof(ledger)), _logger);
        }

        _votes = new PartitionVotes(p => _ownership!.LogOf(p), _watermark is null ? null : new LedgerAck(_watermark, options.LedgerAckTimeout));
        _forwarding = new CommandForwarding(nats, options, p => _ownership!.Local(p), _logger, _votes);
        _redis = redis;
        _ownership = new PartitionOwnership(nats, options, _partitionOptions, _time, _logger, _forwarding, OnAcquired, OnLosingAsync,
            p => ledger is null ? new InMemorySnapshotStore() : new PostgresSnapshotStore(ledger, options.StreamName, p, _logger),
            (where, ex) => Faulted?.Invoke(where, ex),
            metrics);
        Ledger = ledger is null ? null : new LedgerProjector(nats, options, ledger, _logger);
    }

    /// <summary>
    /// Whether the live hub still streams a poll: a followed poll it no longer streams is unfollowed after
    /// <see cref="ClusterOptions.UnfollowAfter"/>. Until <see cref="AttachHub"/> (or a test) sets it, nothing is unfollowed.
    /// </summary>
    internal Func<string, bool> IsStreamed
    {
        get => _follower.IsStreamed;
        set => _follower.IsStreamed = value;
    }

    /// <summary>Follows a poll's live updates for as long as <paramref name="hub"/> streams it (and <see cref="ClusterOptions.UnfollowAfter"/> more).</summary>
    public void AttachHub(LiveHub hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        _follower.IsStreamed = hub.HasStream;
    }

    /// <summary>True while this node subscribes to the poll's live updates (its watchers follow it).</summary>
    public bool IsFollowing(string pollId) => _follower.IsFollowing(pollId);

    /// <summary>Polls this node follows now.</summary>
    public int FollowedPolls => _follower.Count;

    /// <summary>The ledger's projector; it runs on the node that owns partition 0.</summary>
    internal LedgerProjector? Ledger { get; }

    /// <summary>Raised on a fault the node survives; the host logs it.</summary>
    public event Action<string, Exception>? Faulted;

    /// <summary>The polls this node's watchers follow, kept current from their owners' live updates.</summary>
    public PollCatalog Catalog { get; } = new();

    /// <summary>True while the node takes commands (readiness: <c>engine</c>).</summary>
    public bool IsRunning => _running;

    /// <summary>What an acknowledged vote survives here: the NATS server's version and this cluster's replicas decide (<see cref="NatsDurability"/>).</summary>
    public Tally.Storage.Durability Durability
    {
        get
        {
            var stream = NatsDurability.Describe(_nats.ServerInfo?.Version, _options.Replicas, _options.NatsSyncAlways);
            return _options.AckAfterLedger
                ? new(stream.Statement + " With Tally:Cluster:AckAfterLedger a vote is answered only once the PostgreSQL ledger has committed it as well, so a 2xx also survives what a PostgreSQL commit survives (its fsync, synchronous_commit on).", AtRisk: false)
                : stream;
        }
    }

    public string NodeId => _options.NodeId;

    /// <summary>The partitions this node owns now.</summary>
    public IReadOnlyCollection<int> OwnedPartitions => _ownership.Owned;

    /// <summary>Events the partitions this node took at start replayed (the start-up log line).</summary>
    public long ReplayedEvents { get; private set; }

    /// <summary>Test hook: wraps the log of each partition this node takes from now on (to hold or fail its appends).</summary>
    internal Func<int, IEventLog, IEventLog> PartitionLog
    {
        get => _ownership.PartitionLog;
        set => _ownership.PartitionLog = value;
    }

    /// <summary>Votes waiting in the queues of the partitions this node owns now (tests).</summary>
    internal int QueuedVotes => _ownership.QueuedVotes;

    /// <summary>Events replayed when this node took <paramref name="partition"/> (after its snapshot); -1 when not owned.</summary>
    internal long ReplayedEventsOf(int partition) => _ownership.ReplayedEvents(partition);

    /// <summary>Connects to the stream and buckets, takes a share of the partitions, and starts renewing.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var js = new NatsJSContext(_nats);
        if (_nats is NatsConnection connection)
        {
            await connection.ConnectAsync().ConfigureAwait(false);
        }

        await StartupRetry.RunAsync(
            "JetStream",
            async ct =>
            {
                await JetStreamEventLog.EnsureStreamAsync(js, _options.StreamName, _options.EventSubjectPrefix, _options.Replicas, TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
                await _ownership.OpenAsync(ct).ConfigureAwait(false);
            },
            _options.StartTimeout,
            _logger,
            cancellationToken).ConfigureAwait(false);
        _watermark?.Start();
        _running = true;
        await _ownership.StartAsync(cancellationToken).ConfigureAwait(false);
        ReplayedEvents = _ownership.Owned.Sum(p => Math.Max(0, _ownership.ReplayedEvents(p)));
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
        await (_watermark?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
        await _follower.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _follower.DisposeAsync().ConfigureAwait(false); // a node never started has its follower's timer still
        _ownership.Dispose();
    }

    /// <summary>
    /// The poll's definition: from what this node keeps (definitions never change), else from the owner of its
    /// partition. <see cref="RejectionKind.Unavailable"/> while that partition has no owner.
    /// </summary>
    public async ValueTask<Outcome<PollDefinition>> FindPollAsync(string pollId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (!_running)
        {
            return Rejection.NotStarted; // as every engine: a stopped node answers nothing, not even what it keeps
        }

        if (_definitions.TryGetValue(pollId, out var known))
        {
            return known;
        }

        if (Catalog.FindPoll(pollId) is { } followed)
        {
            return followed;
        }

        var results = await GetResultsAsync(pollId, cancellationToken).ConfigureAwait(false);
        return results.Value is { } found ? found.Poll : results.Rejection!;
    }

    /// <summary>The poll's committed results, from the owner of its partition (this node, or over NATS request/reply).</summary>
    public async ValueTask<Outcome<PollResults>> GetResultsAsync(string pollId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        if (!IsPollId(pollId))
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        var outcome = await RouteAsync(
            PartitionOf(pollId),
            engine => engine.GetResultsAsync(pollId, cancellationToken).AsTask(),
            new ForwardedCommand(ForwardedKind.Results, PollId: pollId),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
        if (outcome.Value is { } results && _definitions.Count < MaxKeptDefinitions)
        {
            _definitions.TryAdd(pollId, results.Poll);
        }

        return outcome;
    }

    /// <summary>Follows the poll's live updates into <see cref="Catalog"/> (subscribing to its subject once) and returns its definition.</summary>
    public async ValueTask<Outcome<PollDefinition>> WatchAsync(string pollId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        return IsPollId(pollId) ? await _follower.FollowAsync(pollId, cancellationToken).ConfigureAwait(false) : TallyEngine.UnknownPoll(pollId);
    }

    /// <summary>
    /// A page of polls, newest first by creation time then id: every partition's owner answers its newest
    /// polls after the cursor, and the page is the newest of those. 503 while any partition has no owner.
    /// </summary>
    public async Task<Outcome<PollPage>> ListPollsAsync(string? workspace, int limit, string? cursor, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        DateTimeOffset? before = null;
        string? beforeId = null;
        if (cursor is not null)
        {
            if (!PollCursor.TryReadCreation(cursor, out var at, out var id))
            {
                return PollCursor.Invalid;
            }

            (before, beforeId) = (at, id);
        }

        var shares = await Task.WhenAll(Enumerable.Range(0, _options.Partitions).Select(p => RouteAsync(
            p,
            engine => Task.FromResult<Outcome<IReadOnlyList<PollResults>>>(new(engine.Catalog.ListByCreation(limit + 1, before, beforeId, workspace), null)),
            new ForwardedCommand(ForwardedKind.List, Limit: limit + 1, Before: before, BeforeId: beforeId, Workspace: workspace),
            (reply, q) => reply.Polls is { } polls ? new Outcome<IReadOnlyList<PollResults>>(polls, null) : new(null, reply.Rejection ?? Unavailable(q))))).ConfigureAwait(false);
        if (shares.FirstOrDefault(s => s.Rejection is not null).Rejection is { } missing)
        {
            return missing;
        }

        var page = shares.SelectMany(s => s.Value!).ToList();
        page.Sort(static (a, b) => PollCatalog.CompareCreation(b.Poll, a.Poll.CreatedAt, a.Poll.Id));
        var next = page.Count > limit ? PollCursor.FromCreation(page[limit - 1].Poll.CreatedAt, page[limit - 1].Poll.Id) : null;
        return new PollPage([.. page.Take(limit)], next);
    }

    /// <summary>The voter's ballot, from the owner of the poll's partition.</summary>
    public async ValueTask<Outcome<BallotLookup>> FindBallotAsync(string pollId, string voterId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentNullException.ThrowIfNull(voterId);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        if (!IsPollId(pollId))
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        return await RouteAsync(
            PartitionOf(pollId),
            engine => engine.FindBallotAsync(pollId, voterId, cancellationToken).AsTask(),
            new ForwardedCommand(ForwardedKind.Ballot, PollId: pollId, VoterId: voterId),
            (reply, p) => reply.Ballot is { } ballot ? ballot : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
    }

    /// <summary>Poll ids are made by <see cref="TallyEngine.NewPollId"/>; anything else names no poll (and must not reach a NATS subject).</summary>
    private static bool IsPollId(string pollId) => PollRules.IsPollId(pollId);

    private const int MaxKeptDefinitions = 100_000;

    /// <summary>Creates a poll on the owner of the partition its new id falls in.</summary>
    public async Task<Outcome<PollResults>> CreatePollAsync(CreatePoll command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        var id = TallyEngine.NewPollId();
        return await RouteAsync(
            PartitionOf(id),
            engine => engine.CreatePollAsync(command, id),
            new ForwardedCommand(ForwardedKind.Create, Create: command, PollId: id),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
    }

    /// <summary>Closes a poll on its partition's owner.</summary>
    public async Task<Outcome<PollResults>> ClosePollAsync(string pollId)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        return await RouteAsync(
            PartitionOf(pollId),
            engine => engine.ClosePollAsync(pollId),
            new ForwardedCommand(ForwardedKind.Close, PollId: pollId),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
    }

    /// <summary>Erases a voter's ballot on its partition's owner.</summary>
    public async Task<Outcome<VoterErasure>> EraseVoterAsync(string pollId, string voterId)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentNullException.ThrowIfNull(voterId);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        return await RouteAsync(
            PartitionOf(pollId),
            engine => engine.EraseVoterAsync(pollId, voterId),
            new ForwardedCommand(ForwardedKind.Erase, PollId: pollId, VoterId: voterId),
            (reply, p) => reply.Erasure is { } erasure ? erasure : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
    }

    /// <summary>Opens, pauses or resumes a poll on its partition's owner.</summary>
    public async Task<Outcome<PollResults>> ChangePollStatusAsync(string pollId, PollTransition transition)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        return await RouteAsync(
            PartitionOf(pollId),
            engine => engine.ChangePollStatusAsync(pollId, transition),
            new ForwardedCommand(ForwardedKind.Transition, PollId: pollId, Transition: transition),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
    }

    /// <summary>Creates an event and its questions on the owner of the partition its id falls in (its questions' ids fall in it too).</summary>
    public Task<Outcome<PollResults>> CreateEventAsync(CreateEvent command, string eventId)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(eventId);
        return OnEventAsync(
            eventId,
            engine => engine.CreateEventAsync(command, eventId),
            new ForwardedCommand(ForwardedKind.CreateEvent, PollId: eventId, Event: command),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p));
    }

    /// <summary>A presenter's command, on the owner of the event's partition.</summary>
    public Task<Outcome<PollResults>> ControlEventAsync(string eventId, EventAction action, int question)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        return OnEventAsync(
            eventId,
            engine => engine.ControlEventAsync(eventId, action, question),
            new ForwardedCommand(ForwardedKind.ControlEvent, PollId: eventId, Action: action, Question: question),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p));
    }

    /// <summary>Joins an event, on the owner of its partition.</summary>
    public Task<Outcome<LeaderboardEntry>> JoinEventAsync(string eventId, string voterId, string name)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentNullException.ThrowIfNull(voterId);
        ArgumentNullException.ThrowIfNull(name);
        return OnEventAsync(
            eventId,
            engine => engine.JoinEventAsync(eventId, voterId, name),
            new ForwardedCommand(ForwardedKind.Join, PollId: eventId, VoterId: voterId, Name: name),
            (reply, p) => reply.Standing is { } standing ? standing : reply.Rejection ?? Unavailable(p));
    }

    /// <summary>A participant's standing, from the owner of the event's partition (exact: it has every answer acknowledged before this).</summary>
    public async ValueTask<Outcome<LeaderboardEntry>> FindStandingAsync(string eventId, string voterId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentNullException.ThrowIfNull(voterId);
        return await OnEventAsync(
            eventId,
            engine => engine.FindStandingAsync(eventId, voterId, cancellationToken).AsTask(),
            new ForwardedCommand(ForwardedKind.Standing, PollId: eventId, VoterId: voterId),
            (reply, p) => reply.Standing is { } standing ? standing : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
    }

    /// <summary>The event's leaders, from the owner of its partition (the Redis sorted set <see cref="RedisLeaderboard"/> keeps is for other services).</summary>
    public async ValueTask<Outcome<IReadOnlyList<LeaderboardEntry>>> GetLeadersAsync(string eventId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await OnEventAsync(
            eventId,
            engine => engine.GetLeadersAsync(eventId, limit, cancellationToken).AsTask(),
            new ForwardedCommand(ForwardedKind.Leaders, PollId: eventId, Limit: limit),
            (reply, p) => reply.Leaders is { } leaders ? new Outcome<IReadOnlyList<LeaderboardEntry>>(leaders, null) : new(null, reply.Rejection ?? Unavailable(p))).ConfigureAwait(false);
    }

    /// <summary>Approves or rejects a held answer, on the owner of the poll's partition.</summary>
    public Task<Outcome<PollResults>> ModerateAnswerAsync(string pollId, long answerSeq, bool approve)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        return OnEventAsync(
            pollId,
            engine => engine.ModerateAnswerAsync(pollId, answerSeq, approve),
            new ForwardedCommand(ForwardedKind.Moderate, PollId: pollId, AnswerSeq: answerSeq, Approve: approve),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p));
    }

    /// <summary>Marks a Q&amp;A poll's question answered, on the owner of the poll's partition.</summary>
    public Task<Outcome<PollResults>> MarkAnsweredAsync(string pollId, long questionSeq)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        return OnEventAsync(
            pollId,
            engine => engine.MarkAnsweredAsync(pollId, questionSeq),
            new ForwardedCommand(ForwardedKind.Answered, PollId: pollId, AnswerSeq: questionSeq),
            (reply, p) => reply.Poll is { } poll ? poll : reply.Rejection ?? Unavailable(p));
    }

    /// <summary>A moderated text poll's held answers, from the owner of its partition.</summary>
    public async ValueTask<Outcome<IReadOnlyList<HeldAnswer>>> GetHeldAnswersAsync(string pollId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await OnEventAsync(
            pollId,
            engine => engine.GetHeldAnswersAsync(pollId, limit, cancellationToken).AsTask(),
            new ForwardedCommand(ForwardedKind.Held, PollId: pollId, Limit: limit),
            (reply, p) => reply.Held is { } held ? new Outcome<IReadOnlyList<HeldAnswer>>(held, null) : new(null, reply.Rejection ?? Unavailable(p))).ConfigureAwait(false);
    }

    private async Task<Outcome<T>> OnEventAsync<T>(string eventId, Func<TallyEngine, Task<Outcome<T>>> local, ForwardedCommand command, Func<ForwardedReply, int, Outcome<T>> fromReply)
        where T : class
    {
        if (Refusal() is { } refused)
        {
            return refused;
        }

        return IsPollId(eventId)
            ? await RouteAsync(PartitionOf(eventId), local, command, fromReply).ConfigureAwait(false)
            : EventRules.UnknownEvent(eventId);
    }

    /// <summary>Casts one ballot on its partition's owner; the outcome is durable unless it is a rejection.</summary>
    public async ValueTask<VoteOutcome> CastVoteAsync(CastVote vote)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (Refusal() is { } refused)
        {
            return VoteOutcome.Rejected(refused);
        }

        return await RouteAsync(
            PartitionOf(vote.PollId),
            engine => _votes.CastAsync(PartitionOf(vote.PollId), engine, vote),
            new ForwardedCommand(ForwardedKind.Vote, Vote: vote),
            (reply, p) => reply.Vote ?? VoteOutcome.Rejected(reply.Rejection ?? Unavailable(p))).ConfigureAwait(false);
    }

    /// <summary>
    /// Casts many ballots: each partition's share goes to its owner at once, and is admitted there as embedded mode
    /// admits a share. A share its owner cannot take (its queue is full, it has no owner, it did not answer) has each
    /// of its ballots answered with that refusal while the other shares count; the batch is refused as a whole only
    /// when nothing of it could be taken (<see cref="BatchOutcome"/>). A forwarded share of more than
    /// <see cref="CommandForwarding.MaxForwardedVotes"/> ballots (or more than one NATS message holds) goes in pieces,
    /// each admitted on its own: under a full queue, part of such a share may count.
    /// </summary>
    public async Task<Outcome<VoteOutcome[]>> CastVotesAsync(IReadOnlyList<CastVote> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (Refusal() is { } refused)
        {
            return refused;
        }

        if (votes.Count == 0)
        {
            return Array.Empty<VoteOutcome>();
        }

        var results = new VoteOutcome[votes.Count];
        var shares = Enumerable.Range(0, votes.Count).GroupBy(i => PartitionOf(votes[i].PollId));
        await Task.WhenAll(shares.Select(async share =>
        {
            var indexes = share.ToArray();
            var answers = await CastShareAsync(share.Key, [.. indexes.Select(i => votes[i])]).ConfigureAwait(false);
            for (var k = 0; k < indexes.Length; k++)
            {
                results[indexes[k]] = answers[k];
            }
        })).ConfigureAwait(false);
        return BatchOutcome.From(results);
    }

    /// <summary>
    /// One partition's share on its owner: at once when this node owns the partition; else forwarded in pieces that
    /// each fit one NATS message (<see cref="CommandForwarding.Pieces"/>), one after the other, so that the owner
    /// decides the ballots in order. The owner admits each piece on its own.
    /// </summary>
    private async Task<VoteOutcome[]> CastShareAsync(int partition, CastVote[] share)
    {
        var pieces = Local(partition) is null ? _forwarding.Pieces(share) : [share];
        var answers = new List<VoteOutcome>(share.Length);
        foreach (var piece in pieces)
        {
            var outcome = await RouteAsync(
                partition,
                engine => _votes.CastAsync(partition, engine, piece),
                new ForwardedCommand(ForwardedKind.Votes, Votes: piece),
                (reply, p) => reply.Votes is { } answered ? answered : reply.Rejection ?? Unavailable(p)).ConfigureAwait(false);
            answers.AddRange(outcome.Value ?? Enumerable.Repeat(VoteOutcome.Rejected(outcome.Rejection!), piece.Length));
        }

        return [.. answers];
    }

    /// <summary>Test hook: stops renewing and serving without releasing anything, as a killed node would.</summary>
    internal async Task AbandonAsync()
    {
        _running = false;
        await _ownership.AbandonAsync().ConfigureAwait(false); // the leases stay until they expire
        await (_watermark?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
        await (Ledger?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
        foreach (var p in _duties.Keys)
        {
            await OnLosingAsync(p).ConfigureAwait(false);
        }

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

    /// <inheritdoc />
    /// <remarks>
    /// The owner of the poll's partition reads its own log from the poll's creation; another node reads the partition's
    /// subject from its start with a reader that does not fence the owner.
    /// </remarks>
    public async IAsyncEnumerable<PollEvent> ReadPollEventsAsync(string pollId, long throughSeq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (!_running || !IsPollId(pollId) || throughSeq < 1)
        {
            yield break;
        }

        var partition = PartitionOf(pollId);
        if (Local(partition) is { } engine)
        {
            await foreach (var e in engine.ReadPollEventsAsync(pollId, throughSeq, cancellationToken).ConfigureAwait(false))
            {
                yield return e;
            }

            yield break;
        }

        await using var reader = new JetStreamEventLog(_nats, new JetStreamLogOptions
        {
            StreamName = _options.StreamName,
            SubjectPrefix = _options.EventSubjectPrefix,
            Subject = _options.EventSubject(partition),
            Replicas = _options.Replicas,
        });
        await reader.OpenForReadingAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in reader.ReadAsync(0, cancellationToken).OfPollThroughAsync(pollId, throughSeq, cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    /// <summary>
    /// What an owner does besides taking commands: publish its polls' live updates and write them to Redis;
    /// the ledger projector runs on partition 0's owner.
    /// </summary>
    private void OnAcquired(int partition, TallyEngine engine)
    {
        var duties = new PartitionDuties(
            new LiveRelay(_nats, _options, engine.Catalog, _time, _logger),
            _redis is null ? null : new RedisReadModel(_redis, _options, engine.Catalog, partition, _logger),
            _redis is null ? null : new RedisLeaderboard(_redis, _options, engine, partition, _logger));
        if (_duties.TryRemove(partition, out var stale))
        {
            _ = stale.StopAsync();
        }

        _duties[partition] = duties;
        duties.Start();
        if (partition == 0)
        {
            Ledger?.Start();
        }
    }

    private async Task OnLosingAsync(int partition)
    {
        if (partition == 0)
        {
            await (Ledger?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
        }

        if (_duties.TryRemove(partition, out var duties))
        {
            await duties.StopAsync().ConfigureAwait(false);
        }
    }

    private sealed record PartitionDuties(LiveRelay Relay, RedisReadModel? ReadModel, RedisLeaderboard? Leaderboard)
    {
        public void Start()
        {
            Relay.Start();
            ReadModel?.Start();
            Leaderboard?.Start();
        }

        public async Task StopAsync()
        {
            await Relay.StopAsync().ConfigureAwait(false);
            await (ReadModel?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
            await (Leaderboard?.StopAsync() ?? Task.CompletedTask).ConfigureAwait(false);
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
