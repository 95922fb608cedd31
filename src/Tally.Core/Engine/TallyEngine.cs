using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Tally.Events;
using Tally.Metrics;
using Tally.Polls;
using Tally.Projections;
using Tally.Storage;

namespace Tally.Engine;

/// <summary>
/// The engine: routes commands to the single-writer partition that owns each poll, recovers state
/// from the latest snapshot plus the log's tail at start, and snapshots as it goes. Queries read
/// <see cref="Catalog"/> and never touch the write path.
/// </summary>
public sealed class TallyEngine : ITallyEngine, IAsyncDisposable
{
    private readonly IEventLog _log;
    private readonly ISnapshotStore _snapshots;
    private readonly TimeProvider _time;
    private readonly TallyEngineOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _snapshotGate = new(1, 1);
    private readonly bool _ownsMetrics;
    private Partition[] _partitions = [];
    private Task _background = Task.CompletedTask;
    private volatile bool _running;
    private long _eventsAtLastSnapshot;
    private DateTimeOffset _lastSnapshotAt;

    /// <param name="metrics">Where the engine counts (the host's); without it the engine makes its own and disposes it.</param>
    public TallyEngine(IEventLog log, ISnapshotStore snapshots, TallyEngineOptions options, TimeProvider? time = null, TallyMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(snapshots);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid(nameof(options));
        PollRules.EnsureNormalization();
        _log = log;
        _snapshots = snapshots;
        _options = options;
        _time = time ?? TimeProvider.System;
        _ownsMetrics = metrics is null;
        Metrics = metrics ?? new TallyMetrics();
    }

    /// <summary>Raised on a fault the engine survives (a failed append, a failed snapshot); the host logs it.</summary>
    public event Action<string, Exception>? Faulted;

    /// <summary>The instruments this engine records to.</summary>
    public TallyMetrics Metrics { get; }

    /// <summary>The read model: every poll's latest results.</summary>
    public PollCatalog Catalog { get; } = new();

    /// <summary>True between a finished <see cref="StartAsync"/> and <see cref="StopAsync"/>.</summary>
    public bool IsRunning => _running;

    public Durability Durability => _log.Durability;

    /// <summary>Events replayed from the log at the last start (after the snapshot).</summary>
    public long ReplayedEvents { get; private set; }

    /// <summary>Opens the log, restores the latest snapshot, replays the log after it, and starts the partitions.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _log.OpenAsync(cancellationToken).ConfigureAwait(false);
        var states = new Dictionary<string, PollState>(StringComparer.Ordinal);
        var snapshot = await _snapshots.LoadLatestAsync(cancellationToken).ConfigureAwait(false);
        if (snapshot is not null)
        {
            try
            {
                SnapshotFormat.Read(snapshot.Data, states);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException)
            {
                // A corrupt snapshot never restores a wrong state: the log holds every event, so replay all of it.
                OnFault("snapshot", new InvalidDataException("The latest snapshot cannot be read; the state is rebuilt from the whole log.", ex));
                states.Clear();
                snapshot = null;
            }
        }

        long replayed = 0;
        await foreach (var stored in _log.ReadAsync(snapshot?.ReplayFrom ?? 0, cancellationToken).ConfigureAwait(false))
        {
            var e = stored.Event;
            if (e is PollCreated created)
            {
                states.TryAdd(created.PollId, new PollState(created.Definition, stored.Position));
            }
            else if (!states.TryGetValue(e.PollId, out var state))
            {
                throw new InvalidDataException($"The log holds event {stored.Position} for poll {e.PollId}, which it never created.");
            }
            else if (e.Seq > state.Seq)
            {
                state.Apply(e);
            }

            replayed++;
        }

        ReplayedEvents = replayed;
        var cutoff = _time.GetUtcNow() - _options.IdempotencyRetention;
        _partitions = new Partition[_options.Partitions];
        for (var i = 0; i < _partitions.Length; i++)
        {
            _partitions[i] = new Partition(i, _log, Catalog, _time, _options, ex => OnFault("partition", ex), Metrics);
        }

        foreach (var state in states.Values)
        {
            state.PruneIdempotencyKeys(cutoff);
            PartitionOf(state.Definition.Id).Adopt(state);
        }

        foreach (var partition in _partitions)
        {
            partition.Start();
        }

        _eventsAtLastSnapshot = -replayed; // a long replay makes the next snapshot come sooner
        _lastSnapshotAt = _time.GetUtcNow();
        _running = true;
        Metrics.Track(this);
        _background = Task.Run(() => RunBackgroundAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Stops taking commands, answers every queued one, writes a final snapshot.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!_running)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _background.ConfigureAwait(false);

        // Take the final snapshot while the partitions still run (capture is a queued item), then drain them.
        await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        _running = false;
        await Task.WhenAll(_partitions.Select(p => p.StopAsync())).ConfigureAwait(false);
        Metrics.Untrack(this);
    }

    /// <inheritdoc />
    public ValueTask<Outcome<PollDefinition>> FindPollAsync(string pollId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        return ValueTask.FromResult(
            !_running ? Rejection.NotStarted
            : Catalog.FindPoll(pollId) is { } poll ? (Outcome<PollDefinition>)poll
            : UnknownPoll(pollId));
    }

    /// <inheritdoc />
    public ValueTask<Outcome<PollResults>> GetResultsAsync(string pollId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        return ValueTask.FromResult(
            !_running ? Rejection.NotStarted
            : Catalog.FindResults(pollId) is { } results ? (Outcome<PollResults>)results
            : UnknownPoll(pollId));
    }

    /// <inheritdoc />
    /// <remarks>Reads the log from the poll's creation on (the catalog knows its position).</remarks>
    public async IAsyncEnumerable<PollEvent> ReadPollEventsAsync(string pollId, long throughSeq, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        if (!_running || Catalog.FindPosition(pollId) is not { } created || throughSeq < 1)
        {
            yield break;
        }

        await foreach (var e in _log.ReadAsync(created - 1, cancellationToken).OfPollThroughAsync(pollId, throughSeq, cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    /// <inheritdoc />
    /// <remarks>The catalog holds every poll here, always current.</remarks>
    public ValueTask<Outcome<PollDefinition>> WatchAsync(string pollId, CancellationToken cancellationToken) => FindPollAsync(pollId, cancellationToken);

    /// <inheritdoc />
    public Task<Outcome<PollPage>> ListPollsAsync(string? workspace, int limit, string? cursor, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        if (!_running)
        {
            return Task.FromResult<Outcome<PollPage>>(Rejection.NotStarted);
        }

        var before = long.MaxValue;
        if (cursor is not null && !PollCursor.TryReadPosition(cursor, out before))
        {
            return Task.FromResult<Outcome<PollPage>>(PollCursor.Invalid);
        }

        var page = Catalog.List(limit + 1, before, workspace);
        var next = page.Count > limit ? PollCursor.FromPosition(page[limit - 1].Position) : null;
        return Task.FromResult<Outcome<PollPage>>(new PollPage([.. page.Take(limit).Select(p => p.Results)], next));
    }

    /// <inheritdoc />
    public async ValueTask<Outcome<BallotLookup>> FindBallotAsync(string pollId, string voterId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentNullException.ThrowIfNull(voterId);
        if (!_running)
        {
            return Rejection.NotStarted;
        }

        if (Catalog.FindPoll(pollId) is null)
        {
            return UnknownPoll(pollId);
        }

        var work = new AnswerWork<BallotLookup>(partition => partition.FindBallot(pollId, voterId));
        return Post(PartitionOf(pollId), work) is { } refused ? refused : await work.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The answer for a poll id nobody created (the id clipped: it may be any client string).</summary>
    public static Rejection UnknownPoll(string pollId) => PollRules.UnknownPoll(pollId);

    /// <summary>Creates a poll and answers once it is durable.</summary>
    public Task<Outcome<PollResults>> CreatePollAsync(CreatePoll command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!_running)
        {
            return Task.FromResult<Outcome<PollResults>>(Rejection.NotStarted);
        }

        string id;
        do
        {
            id = NewPollId();
        }
        while (Catalog.FindPoll(id) is not null);

        return CreatePollAsync(command, id);
    }

    /// <summary>
    /// Creates a poll with an id the caller chose, for an engine that routes commands by poll id before it creates
    /// the poll (cluster mode picks the id, then sends the command to the owner of the id's partition). The id
    /// should come from <see cref="NewPollId"/>; one that is taken is refused as <see cref="RejectionKind.IdTaken"/>
    /// (retry with another). Otherwise as <see cref="CreatePollAsync(CreatePoll)"/>.
    /// </summary>
    public async Task<Outcome<PollResults>> CreatePollAsync(CreatePoll command, string id)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(id);
        if (!_running)
        {
            return Rejection.NotStarted;
        }

        var definition = PollRules.TryDefine(command, id, NowMilliseconds(), out var rejection);
        if (definition is null)
        {
            return rejection!;
        }

        var work = new CreatePollWork(definition);
        return Post(PartitionOf(id), work) is { } refused ? refused : await work.Task.ConfigureAwait(false);
    }

    /// <summary>Closes a poll (idempotent: closing a closed poll answers its results).</summary>
    public Task<Outcome<PollResults>> ClosePollAsync(string pollId)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        var work = new PollCommandWork(pollId, static (partition, id) => partition.DecideClose(id));
        return OnPollAsync(pollId, work, work.Task);
    }

    /// <inheritdoc />
    public Task<Outcome<PollResults>> ChangePollStatusAsync(string pollId, PollTransition transition)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        var work = new PollCommandWork(pollId, (partition, id) => partition.DecideTransition(id, transition));
        return OnPollAsync(pollId, work, work.Task);
    }

    /// <inheritdoc />
    public Task<Outcome<VoterErasure>> EraseVoterAsync(string pollId, string voterId)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentNullException.ThrowIfNull(voterId);
        var work = new AnswerWork<VoterErasure>(partition => partition.DecideErase(pollId, voterId));
        return OnPollAsync(pollId, work, work.Task);
    }

    /// <inheritdoc />
    public Task<Outcome<PollResults>> ModerateAnswerAsync(string pollId, long answerSeq, bool approve)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        var work = new PollCommandWork(pollId, (partition, id) => partition.DecideModerate(id, answerSeq, approve));
        return OnPollAsync(pollId, work, work.Task);
    }

    /// <inheritdoc />
    public Task<Outcome<PollResults>> MarkAnsweredAsync(string pollId, long questionSeq)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        var work = new PollCommandWork(pollId, (partition, id) => partition.DecideAnswered(id, questionSeq));
        return OnPollAsync(pollId, work, work.Task);
    }

    /// <inheritdoc />
    public async ValueTask<Outcome<IReadOnlyList<HeldAnswer>>> GetHeldAnswersAsync(string pollId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var work = new AnswerWork<IReadOnlyList<HeldAnswer>>(partition => partition.FindHeld(pollId, limit));
        return await OnPollAsync(pollId, work, work.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates an event and its questions under <paramref name="eventId"/>, which the host derived from the command's join
    /// code; answers the event's first results once durable. An id that is taken is <see cref="RejectionKind.IdTaken"/>
    /// (draw another code); a command that is not valid is <see cref="RejectionKind.Invalid"/> with every wrong field.
    /// </summary>
    public async Task<Outcome<PollResults>> CreateEventAsync(CreateEvent command, string eventId)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(eventId);
        if (!_running)
        {
            return Rejection.NotStarted;
        }

        if (EventRules.TryDefine(command, eventId, NowMilliseconds(), out var rejection) is not { } definitions)
        {
            return rejection!;
        }

        var work = new CreateEventWork(definitions);
        return Post(PartitionOf(eventId), work) is { } refused ? refused : await work.Task.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<Outcome<PollResults>> ControlEventAsync(string eventId, EventAction action, int question)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        var work = new PollCommandWork(eventId, (partition, id) => partition.Desk.Control(id, action, question));
        return OnPollAsync(eventId, work, work.Task);
    }

    /// <inheritdoc />
    public Task<Outcome<LeaderboardEntry>> JoinEventAsync(string eventId, string voterId, string name)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentNullException.ThrowIfNull(voterId);
        ArgumentNullException.ThrowIfNull(name);
        var work = new AnswerWork<LeaderboardEntry>(partition => partition.Desk.Join(eventId, voterId, name));
        return OnPollAsync(eventId, work, work.Task);
    }

    /// <inheritdoc />
    public async ValueTask<Outcome<LeaderboardEntry>> FindStandingAsync(string eventId, string voterId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentNullException.ThrowIfNull(voterId);
        var work = new AnswerWork<LeaderboardEntry>(partition => partition.Desk.Standing(eventId, voterId));
        return await OnPollAsync(eventId, work, work.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<Outcome<IReadOnlyList<LeaderboardEntry>>> GetLeadersAsync(string eventId, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var work = new AnswerWork<IReadOnlyList<LeaderboardEntry>>(partition => partition.Desk.Leaders(eventId, limit));
        return await OnPollAsync(eventId, work, work.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="work"/> on the poll's partition and awaits its <paramref name="answer"/>, unless the engine is not running or there is no such poll.</summary>
    private async Task<Outcome<T>> OnPollAsync<T>(string pollId, PartitionWork work, Task<Outcome<T>> answer)
        where T : class
    {
        if (!_running)
        {
            return Rejection.NotStarted;
        }

        if (Catalog.FindPoll(pollId) is null)
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        return Post(PartitionOf(pollId), work) is { } refused ? refused : await answer.ConfigureAwait(false);
    }

    /// <summary>Casts one ballot; the outcome is durable unless it is a rejection.</summary>
    public async ValueTask<VoteOutcome> CastVoteAsync(CastVote vote)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (Check(vote, out vote) is { } rejection)
        {
            Metrics.RecordRejected(rejection.Kind);
            return VoteOutcome.Rejected(rejection);
        }

        var partition = PartitionOf(vote.PollId);
        if (!partition.TryReserve(1))
        {
            Metrics.RecordQueueFull(1);
            return VoteOutcome.Rejected(Rejection.Overloaded);
        }

        var work = new SingleVoteWork(vote);
        if (Post(partition, work) is { } refused)
        {
            Metrics.RecordRejected(refused.Kind);
            return VoteOutcome.Rejected(refused);
        }

        return await work.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Casts many ballots on any polls, each partition's share queued at once. A share whose partition's queue lacks
    /// room is answered <see cref="RejectionKind.Overloaded"/> ballot by ballot while the other shares count; the
    /// batch is refused as a whole only when nothing of it could be taken (<see cref="BatchOutcome"/>). Otherwise
    /// each ballot gets its own outcome, in order.
    /// </summary>
    public async Task<Outcome<VoteOutcome[]>> CastVotesAsync(IReadOnlyList<CastVote> votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        if (!_running)
        {
            if (votes.Count > 0)
            {
                Metrics.RecordRejected(RejectionKind.Unavailable, votes.Count);
            }

            return Rejection.NotStarted;
        }

        var results = new VoteOutcome[votes.Count];
        var byPartition = new List<int>?[_partitions.Length];
        VoteTally? refused = null; // counted here; the partitions count what they decide
        CastVote[]? admitted = null; // a copy, once a ballot's voterId was normalised
        for (var i = 0; i < votes.Count; i++)
        {
            if (Check(votes[i], out var vote) is { } rejection)
            {
                results[i] = VoteOutcome.Rejected(rejection);
                (refused ??= new()).Add(results[i]);
                continue;
            }

            if (!ReferenceEquals(vote, votes[i]))
            {
                (admitted ??= [.. votes])[i] = vote;
            }

            (byPartition[PartitionOf(votes[i].PollId).Index] ??= []).Add(i);
        }

        if (refused is not null)
        {
            Metrics.RecordVotes(refused);
        }

        // Each share is admitted on its own: one full partition refuses its share, not the batch.
        var parts = 0;
        for (var p = 0; p < byPartition.Length; p++)
        {
            if (byPartition[p] is not { } indexes)
            {
                continue;
            }

            if (_partitions[p].TryReserve(indexes.Count))
            {
                parts++;
                continue;
            }

            foreach (var i in indexes)
            {
                results[i] = VoteOutcome.Rejected(Rejection.Overloaded);
            }

            Metrics.RecordQueueFull(indexes.Count);
            byPartition[p] = null;
        }

        if (parts == 0)
        {
            return BatchOutcome.From(results);
        }

        // A share admitted whole goes to its partition's queue in pieces of at most MaxBatch ballots, so that no append
        // holds more than MaxBatch votes' events (cluster mode's log puts one append in one NATS message).
        var pieces = new List<(Partition Partition, IReadOnlyList<int> Indexes)>(parts);
        for (var p = 0; p < byPartition.Length; p++)
        {
            if (byPartition[p] is not { } indexes)
            {
                continue;
            }

            if (indexes.Count <= _options.MaxBatch)
            {
                pieces.Add((_partitions[p], indexes));
                continue;
            }

            foreach (var piece in indexes.Chunk(_options.MaxBatch))
            {
                pieces.Add((_partitions[p], piece));
            }
        }

        var batch = new VoteBatch(admitted ?? votes, results, pieces.Count);
        foreach (var (partition, indexes) in pieces)
        {
            if (!partition.Post(new BatchVoteWork(batch, indexes)))
            {
                // Stopping: answer these as unavailable; the pieces already queued still complete.
                foreach (var i in indexes)
                {
                    results[i] = VoteOutcome.Rejected(Rejection.Stopping);
                }

                Metrics.RecordRejected(RejectionKind.Unavailable, indexes.Count);

                batch.PartDone();
            }
        }

        return BatchOutcome.From(await batch.Task.ConfigureAwait(false));
    }

    /// <summary>Writes a snapshot of every partition's state now.</summary>
    public async Task SnapshotAsync(CancellationToken cancellationToken)
    {
        await _snapshotGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var events = _partitions.Sum(p => p.EventsAppended);
            var captures = _partitions.Select(p =>
            {
                var work = new CaptureWork();
                return p.Post(work) ? work.Task : Task.FromException<Partition.Capture>(new InvalidOperationException("The partition has stopped."));
            }).ToArray();
            var parts = await Task.WhenAll(captures).ConfigureAwait(false);
            var data = SnapshotFormat.Write(parts);
            await _snapshots.SaveAsync(new Snapshot(parts.Min(c => c.Through), _time.GetUtcNow(), data), cancellationToken).ConfigureAwait(false);
            _eventsAtLastSnapshot = events;
            _lastSnapshotAt = _time.GetUtcNow();
            Metrics.RecordSnapshot();
        }
        finally
        {
            _snapshotGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
        _snapshotGate.Dispose();
        if (_ownsMetrics)
        {
            Metrics.Dispose();
        }
    }

    /// <summary>The votes waiting in every partition's queue (a gauge).</summary>
    public int QueuedVotes => _partitions.Sum(p => p.QueuedVotes);

    /// <summary>Null with the ballot to decide (its voterId normalised), or why it is refused.</summary>
    private Rejection? Check(CastVote vote, out CastVote admitted)
    {
        admitted = vote;
        if (!_running)
        {
            return Rejection.NotStarted;
        }

        if (Catalog.FindPoll(vote.PollId) is not { } poll)
        {
            return TallyEngine.UnknownPoll(vote.PollId);
        }

        return PollRules.CheckBallot(poll, vote, out admitted);
    }

    private Rejection? Post(Partition partition, PartitionWork work) =>
        _running && partition.Post(work) ? null : Rejection.Stopping;

    private Partition PartitionOf(string pollId) => _partitions[PartitionIndex(pollId, _partitions.Length)];

    /// <summary>
    /// The partition of <paramref name="partitions"/> a poll falls in: FNV-1a over the UTF-16 code units of the id's first
    /// <see cref="EventIds.RoutingLength"/> characters (all of an id the server makes; an event's questions add to the
    /// event's id, so they fall in its partition) modulo the count, stable across processes, restarts and versions
    /// (cluster mode routes by it, and its stream's subjects depend on it, so it never changes).
    /// </summary>
    public static int PartitionIndex(string pollId, int partitions)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        var hash = 2166136261u;
        foreach (var c in pollId.AsSpan(0, Math.Min(pollId.Length, EventIds.RoutingLength)))
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)partitions);
    }

    /// <summary>A new random poll id: 10 lowercase letters and digits (without the look-alikes l, o, 0 and 1).</summary>
    public static string NewPollId() => RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyz23456789", 10);

    private DateTimeOffset NowMilliseconds()
    {
        var now = _time.GetUtcNow();
        return now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerMillisecond));
    }

    private async Task RunBackgroundAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.ExpiryCheckInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                foreach (var partition in _partitions)
                {
                    partition.PostExpiry();
                }

                var events = _partitions.Sum(p => p.EventsAppended);
                var due = events - _eventsAtLastSnapshot >= _options.SnapshotEveryEvents
                    || (events != _eventsAtLastSnapshot && _time.GetUtcNow() - _lastSnapshotAt >= _options.SnapshotInterval);
                if (due)
                {
                    try
                    {
                        await SnapshotAsync(stopping).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        OnFault("snapshot", ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private void OnFault(string where, Exception ex) => Faulted?.Invoke(where, ex);
}
