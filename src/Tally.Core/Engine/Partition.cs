using System.Text;
using System.Threading.Channels;
using Tally.Events;
using Tally.Metrics;
using Tally.Polls;
using Tally.Projections;
using Tally.Storage;

namespace Tally.Engine;

/// <summary>
/// The single writer of a share of the polls. Its loop takes what is queued (up to
/// <see cref="TallyEngineOptions.MaxBatch"/> votes), decides each item against the polls' state,
/// appends every event of the batch in one call (the log group-commits batches of all partitions),
/// then publishes the new results and answers. Dedupe, idempotency and counting therefore need no
/// locks, and nothing is answered before it is durable.
/// </summary>
internal sealed class Partition
{
    private readonly Channel<PartitionWork> _queue = Channel.CreateUnbounded<PartitionWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, PollState> _polls = new(StringComparer.Ordinal);
    private readonly PriorityQueue<PollState, DateTimeOffset> _closing = new();
    private readonly PriorityQueue<PollState, DateTimeOffset> _opening = new();
    private readonly List<PartitionWork> _batch = [];
    private readonly List<PollEvent> _events = [];
    private readonly HashSet<PollState> _touched = [];
    private readonly HashSet<PollState> _deferred = [];
    private bool _trailingArmed;
    private readonly IEventLog _log;
    private readonly TimeProvider _time;
    private readonly TallyEngineOptions _options;
    private readonly Action<Exception> _onFault;
    private readonly TallyMetrics _metrics;
    private readonly VoteTally _tally = new();
    private int _queuedVotes;
    private int _expiryQueued;
    private long _eventsAppended;

    // After a failed append: the log's committed position before it, and the polls its batch created. Before the next
    // decision the log after that position is read back, so a batch the store kept although it reported a failure (an
    // fsync error after the write) is counted, never overwritten by new events with the same seqs.
    private long? _reconcileAfter;
    private readonly HashSet<string> _failedCreations = new(StringComparer.Ordinal);
    private DateTimeOffset _now;
    private Task? _loop;

    public Partition(int index, IEventLog log, PollCatalog catalog, TimeProvider time, TallyEngineOptions options, Action<Exception> onFault, TallyMetrics metrics)
    {
        _metrics = metrics;
        Index = index;
        _log = log;
        Catalog = catalog;
        _time = time;
        _options = options;
        _onFault = onFault;
        Desk = new EventDesk(this);
    }

    public int Index { get; }

    /// <summary>The events' presenter commands, joins and scoring, on this partition's polls.</summary>
    internal EventDesk Desk { get; }

    /// <summary>The time of the batch being decided (to the millisecond, as the log keeps it).</summary>
    internal DateTimeOffset Now => _now;

    /// <summary>The state of a poll of this partition, on its loop only.</summary>
    internal PollState? FindState(string pollId) => _polls.GetValueOrDefault(pollId);

    public PollCatalog Catalog { get; }

    /// <summary>Events this partition made durable since start (for the snapshot policy).</summary>
    public long EventsAppended => Interlocked.Read(ref _eventsAppended);

    public int QueuedVotes => Volatile.Read(ref _queuedVotes);

    /// <summary>Adopts a poll's recovered state: before <see cref="Start"/>, or on the loop (a read-back after a failed append).</summary>
    public void Adopt(PollState state)
    {
        _polls.Add(state.Definition.Id, state);
        if (state.Status != PollStatus.Closed && state.DueAt is { } at)
        {
            _closing.Enqueue(state, at);
        }

        if (state.Status == PollStatus.Draft && state.Definition.OpensAt is { } opensAt)
        {
            _opening.Enqueue(state, opensAt);
        }
    }

    /// <summary>Publishes every adopted poll to the catalog and starts the loop.</summary>
    public void Start()
    {
        foreach (var state in _polls.Values)
        {
            Publish(state);
        }

        _loop = Task.Run(RunAsync);
    }

    /// <summary>Takes room for <paramref name="votes"/> votes in the queue, or says it is full.</summary>
    public bool TryReserve(int votes)
    {
        if (Interlocked.Add(ref _queuedVotes, votes) > _options.QueueCapacity)
        {
            Interlocked.Add(ref _queuedVotes, -votes);
            return false;
        }

        return true;
    }

    public void Release(int votes) => Interlocked.Add(ref _queuedVotes, -votes);

    /// <summary>Queues <paramref name="work"/> (whose votes were reserved); false once the partition is stopping.</summary>
    public bool Post(PartitionWork work)
    {
        if (_queue.Writer.TryWrite(work))
        {
            return true;
        }

        Release(work.Weight);
        return false;
    }

    /// <summary>Queues an expiry sweep unless one is already waiting.</summary>
    public void PostExpiry()
    {
        if (Interlocked.Exchange(ref _expiryQueued, 1) == 0 && !_queue.Writer.TryWrite(new ExpireWork()))
        {
            Volatile.Write(ref _expiryQueued, 0);
        }
    }

    /// <summary>Stops taking work, finishes what is queued, and returns when the loop has ended.</summary>
    public Task StopAsync()
    {
        _queue.Writer.TryComplete();
        return _loop ?? Task.CompletedTask;
    }

    internal VoteOutcome DecideVote(CastVote vote)
    {
        var outcome = Decide(vote);
        _tally.Add(outcome); // recorded once the batch is durable
        return outcome;
    }

    private VoteOutcome Decide(CastVote vote)
    {
        if (!_polls.TryGetValue(vote.PollId, out var state))
        {
            return VoteOutcome.Rejected(TallyEngine.UnknownPoll(vote.PollId));
        }

        if (state.IsDue(_now))
        {
            Record(state, state.Close(state.DueAt!.Value, CloseReason.Expired));
        }
        else if (state.IsDueToOpen(_now))
        {
            Record(state, state.OpenOnSchedule(state.Definition.OpensAt!.Value)); // before the sweep got to it
        }

        PollState? ev = null;
        if (state.Definition.EventId is { } eventId && Desk.WhyNotParticipant(eventId, vote, out ev) is { } outsider)
        {
            return VoteOutcome.Rejected(outsider);
        }

        var outcome = state.Decide(vote, _now, out var made);
        if (made is not null)
        {
            Record(state, made);
            if (made is VoteCast answer && state.Definition.Quiz is { } quiz)
            {
                Record(ev!, Desk.Score(ev!, state, answer, quiz)); // in the same commit as the answer
            }

            if (state.IsFull)
            {
                Record(state, state.Close(_now, CloseReason.Limit)); // the ballot that reached maxBallots closes the poll with it
            }
        }

        return outcome;
    }

    internal Outcome<BallotLookup> FindBallot(string pollId, string voterId) =>
        _polls.TryGetValue(pollId, out var state)
            ? state.BallotOf(voterId) is { } options ? new BallotLookup(true, [.. options]) : BallotLookup.None
            : TallyEngine.UnknownPoll(pollId);

    internal Rejection? DecideCreate(PollDefinition definition)
    {
        if (_polls.ContainsKey(definition.Id))
        {
            return new Rejection(RejectionKind.IdTaken, $"Poll id {definition.Id} is taken; retry to get another.");
        }

        var state = new PollState(definition, createdPosition: 0);
        _polls.Add(definition.Id, state);
        Record(state, new PollCreated(definition));
        if (definition.ClosesAt is { } at)
        {
            _closing.Enqueue(state, at);
        }

        if (definition.OpensAt is { } opensAt)
        {
            _opening.Enqueue(state, opensAt);
        }

        return null;
    }

    internal Rejection? DecideTransition(string pollId, PollTransition transition)
    {
        if (!_polls.TryGetValue(pollId, out var state))
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        if (state.IsDue(_now))
        {
            Record(state, state.Close(state.DueAt!.Value, CloseReason.Expired));
        }

        var rejection = state.Transition(transition, _now, out var made);
        if (made is not null)
        {
            Record(state, made);
        }

        return rejection;
    }

    /// <summary>Erases the voter's ballot; the answer, or why not (no such poll; a poll that keeps no ballots by voter).</summary>
    internal Outcome<VoterErasure> DecideErase(string pollId, string voterId)
    {
        if (!_polls.TryGetValue(pollId, out var state))
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        if (state.Definition.Dedupe != DedupePolicy.Voter)
        {
            return new Rejection(RejectionKind.Invalid, $"Poll {pollId} counts every ballot (dedupe \"none\") and keeps none by voter: there is no ballot to erase by voter id.");
        }

        if (state.Erase(voterId, _now) is not { } erased)
        {
            return new VoterErasure(false, state.Seq, null);
        }

        Record(state, erased);
        return new VoterErasure(true, erased.Seq, erased switch
        {
            BallotErased ballot => ballot.VoteId,
            QuestionsErased questions => VoteIds.Format(pollId, questions.Seqs.Min()), // the voter's first question or upvote
            _ => null,
        });
    }

    /// <summary>Approves or rejects a held answer of a moderated text poll.</summary>
    internal Rejection? DecideModerate(string pollId, long answerSeq, bool approve)
    {
        if (!_polls.TryGetValue(pollId, out var state))
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        if (!(state.Definition.Text?.Moderated ?? state.Definition.Questions?.Moderated ?? false))
        {
            return new Rejection(RejectionKind.Invalid, $"Poll {pollId} holds no answers for moderation (only a text or Q&A poll made with moderation does).");
        }

        if (!(state.Text?.IsHeld(answerSeq) ?? state.Questions!.IsHeld(answerSeq)))
        {
            return new Rejection(RejectionKind.Invalid, $"Poll {pollId} holds no answer {pollId}-{answerSeq} (it was moderated already, or is no answer).");
        }

        Record(state, state.Record(new AnswerModerated(pollId, state.Seq + 1, _now, answerSeq, approve)));
        return null;
    }

    internal Outcome<IReadOnlyList<HeldAnswer>> FindHeld(string pollId, int limit) =>
        !_polls.TryGetValue(pollId, out var state) ? TallyEngine.UnknownPoll(pollId)
        : state.Text is { } text ? new Outcome<IReadOnlyList<HeldAnswer>>(text.Held(limit), null)
        : state.Questions is { } questions ? new Outcome<IReadOnlyList<HeldAnswer>>(questions.Held(limit), null)
        : new Rejection(RejectionKind.Invalid, $"Poll {pollId} is not a text or Q&A poll.");

    /// <summary>Marks a shown question of a Q&amp;A poll answered; one answered already is left as it is.</summary>
    internal Rejection? DecideAnswered(string pollId, long questionSeq)
    {
        if (!_polls.TryGetValue(pollId, out var state))
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        if (state.Questions is not { } questions)
        {
            return new Rejection(RejectionKind.Invalid, $"Poll {pollId} is not a Q&A poll (kind \"questions\"): it has no questions to mark answered.");
        }

        if (!questions.IsShown(questionSeq, out var answered))
        {
            return new Rejection(RejectionKind.Invalid, $"Poll {pollId} shows no question {VoteIds.Format(pollId, questionSeq)} (none was asked under that id, or it is held, rejected or erased).");
        }

        if (!answered)
        {
            Record(state, state.Record(new QuestionAnswered(pollId, state.Seq + 1, _now, questionSeq)));
        }

        return null;
    }

    internal Rejection? DecideClose(string pollId)
    {
        if (!_polls.TryGetValue(pollId, out var state))
        {
            return TallyEngine.UnknownPoll(pollId);
        }

        if (state.Status != PollStatus.Closed)
        {
            var reason = state.IsDue(_now) ? CloseReason.Expired : CloseReason.Admin;
            Record(state, state.Close(reason == CloseReason.Expired ? state.DueAt!.Value : _now, reason));
        }

        return null;
    }

    internal void CloseDuePolls()
    {
        while (_opening.TryPeek(out var scheduled, out var opensAt) && opensAt <= _now)
        {
            _opening.Dequeue();
            if (_polls.TryGetValue(scheduled.Definition.Id, out var current) && ReferenceEquals(current, scheduled) && scheduled.IsDueToOpen(_now))
            {
                Record(scheduled, scheduled.OpenOnSchedule(opensAt));
            }
        }

        while (_closing.TryPeek(out var state, out var at) && at <= _now)
        {
            _closing.Dequeue();
            if (_polls.TryGetValue(state.Definition.Id, out var current) && ReferenceEquals(current, state) && state.IsDue(_now))
            {
                Record(state, state.Close(at, CloseReason.Expired));
            }
        }
    }

    internal void ExpiryDone() => Volatile.Write(ref _expiryQueued, 0);

    /// <summary>The partition's state in snapshot form; call only between batches (from <see cref="PartitionWork.Complete"/>).</summary>
    internal Capture CaptureState()
    {
        var cutoff = _time.GetUtcNow() - _options.IdempotencyRetention;
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(_polls.Count);
            foreach (var state in _polls.Values)
            {
                state.PruneIdempotencyKeys(cutoff);
                state.Write(w);
            }
        }

        // Every event of this partition at or before the committed position is applied: none is in flight.
        return new Capture(_log.CommittedPosition, stream.ToArray());
    }

    internal static Rejection AppendFailed(Exception failure) =>
        new(RejectionKind.Unavailable, "The batch this vote was decided in could not be made durable. Retry with the same Idempotency-Key (should the store have kept it after all, the retry answers it as counted): " + failure.Message);

    /// <summary>The answer to a poll command: its rejection, the append's failure, or the poll's new results.</summary>
    internal static Outcome<PollResults> Answer(Partition partition, Rejection? rejection, Exception? failure, string pollId) =>
        rejection is not null ? rejection
        : failure is not null ? AppendFailed(failure)
        : partition.Catalog.FindResults(pollId)!;

    /// <summary>Queues <paramref name="state"/> to close by itself at its <see cref="PollState.DueAt"/> (a quiz question just shown).</summary>
    internal void ScheduleClosing(PollState state)
    {
        if (state.DueAt is { } at)
        {
            _closing.Enqueue(state, at);
        }
    }

    internal void Record(PollState state, PollEvent e)
    {
        _events.Add(e);
        _touched.Add(state);
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // At most MaxBatch votes in one append: the next item waits for the next batch when it would pass that
            // (an item weighs at most MaxBatch, since batches are queued in pieces of that size).
            var votes = 0;
            while (votes < _options.MaxBatch
                && (votes == 0 || !reader.TryPeek(out var next) || votes + next.Weight <= _options.MaxBatch)
                && reader.TryRead(out var work))
            {
                _batch.Add(work);
                votes += work.Weight;
            }

            Exception? failure = null;
            try
            {
                failure = await RunBatchAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // A bug, not an I/O fault (those are handled inside): say so, answer, and keep the partition alive.
                failure = ex;
                _onFault(ex);
                foreach (var work in _batch)
                {
                    work.Complete(this, ex);
                }
            }
            finally
            {
                // After a failure every vote of the batch was answered unavailable, whatever was decided.
                if (failure is null)
                {
                    _metrics.RecordVotes(_tally);
                }
                else
                {
                    _tally.Clear();
                    if (votes > 0)
                    {
                        _metrics.RecordRejected(RejectionKind.Unavailable, votes);
                    }
                }

                Release(votes);
                _batch.Clear();
                _events.Clear();
                _touched.Clear();
            }
        }
    }

    /// <summary>Decides, appends and answers the batch; returns the append's failure, if any.</summary>
    private async Task<Exception?> RunBatchAsync()
    {
        if (_reconcileAfter is not null && await ReconcileAsync().ConfigureAwait(false) is { } unreadable)
        {
            // The log cannot be read back: deciding now could reuse seqs the store may hold. Nothing is taken until it can.
            foreach (var work in _batch)
            {
                work.Complete(this, unreadable);
            }

            return unreadable;
        }

        var now = _time.GetUtcNow();
        _now = now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerMillisecond)); // the log keeps milliseconds
        foreach (var work in _batch)
        {
            work.Decide(this);
        }

        Exception? failure = null;
        if (_events.Count > 0)
        {
            var before = _log.CommittedPosition;
            try
            {
                var started = _time.GetTimestamp();
                var first = await _log.AppendAsync(_events, CancellationToken.None).ConfigureAwait(false);
                _metrics.RecordAppend(_events.Count, _time.GetElapsedTime(started));
                Interlocked.Add(ref _eventsAppended, _events.Count);
                for (var i = 0; i < _events.Count; i++)
                {
                    if (_events[i] is PollCreated created)
                    {
                        _polls[created.PollId].CreatedPosition = first + i;
                    }
                }

                foreach (var state in _touched)
                {
                    PublishOrDefer(state);
                }
            }
            catch (Exception ex)
            {
                failure = ex;
                _metrics.RecordAppendError();
                _onFault(ex);
                if (_options.ReadBackAfterFailedAppend)
                {
                    _reconcileAfter ??= before;
                    foreach (var e in _events)
                    {
                        if (e is PollCreated)
                        {
                            _failedCreations.Add(e.PollId);
                        }
                    }
                }

                Reverse();

                // Read back at once, before the answers: the served state then equals the log when they arrive (the
                // batch may be there after all). A log that cannot be read yet is read before the next decision.
                if (_reconcileAfter is not null)
                {
                    _ = await ReconcileAsync().ConfigureAwait(false);
                }
            }
        }

        foreach (var work in _batch)
        {
            work.Complete(this, failure);
        }

        return failure;
    }

    /// <summary>
    /// Reads the log after the position it had before the last failed append and applies what it holds of this
    /// partition's polls (a single writer per poll: any such event is of a batch reported failed). The log contract says
    /// a failed append left nothing; a store that broke it (wrote, then failed to confirm) is caught here, its events
    /// counted, and logged as a fault. Returns why the log could not be read, or null once it was.
    /// </summary>
    private async Task<Exception?> ReconcileAsync()
    {
        var landed = 0;
        try
        {
            await foreach (var stored in _log.ReadAsync(_reconcileAfter!.Value, CancellationToken.None).ConfigureAwait(false))
            {
                var e = stored.Event;
                if (e is PollCreated created && _failedCreations.Contains(created.PollId) && !_polls.ContainsKey(created.PollId))
                {
                    var state = new PollState(created.Definition, stored.Position);
                    Adopt(state);
                    _touched.Add(state);
                    landed++;
                }
                else if (e is not PollCreated && _polls.TryGetValue(e.PollId, out var state) && e.Seq > state.Seq)
                {
                    state.Apply(e);
                    _touched.Add(state);
                    landed++;
                }
            }
        }
        catch (Exception ex)
        {
            _touched.Clear();
            return ex;
        }

        _reconcileAfter = null;
        _failedCreations.Clear();
        if (landed > 0)
        {
            _onFault(new InvalidDataException($"An append reported as failed was in the log after all: its {landed} event(s) are counted (the store confirmed a write it had reported as failed)."));
            foreach (var state in _touched)
            {
                Publish(state);
            }
        }

        _touched.Clear();
        return null;
    }

    /// <summary>Undoes every event of the failed batch, newest first, so the state equals the durable log again.</summary>
    private void Reverse()
    {
        for (var i = _events.Count - 1; i >= 0; i--)
        {
            var e = _events[i];
            if (e is PollCreated)
            {
                _polls.Remove(e.PollId);
            }
            else
            {
                var state = _polls[e.PollId];
                state.Unapply(e);
                if (e is PollClosed { Reason: CloseReason.Expired } closed)
                {
                    _closing.Enqueue(state, closed.At); // the sweep dequeued it; let the next one try again
                }
                else if (e is PollOpened { Reason: OpenReason.Scheduled } opened)
                {
                    _opening.Enqueue(state, opened.At); // likewise for a scheduled opening
                }
            }
        }
    }

    private void Publish(PollState state)
    {
        state.ForgetUndo(); // published: durable (or adopted at start)
        state.PublishedAt = _time.GetUtcNow();
        Catalog.Publish(state.ToResults(), state.CreatedPosition);
    }

    /// <summary>
    /// Publishes the poll's new results, but an open ranking poll's at most once per
    /// <see cref="TallyEngineOptions.RankingPublishDelay"/>: publishing recounts its instant runoff over every distinct
    /// ranking, so a commit within that time of the last publication is deferred, and a timer publishes it (with every
    /// commit after it) when the time is up. A vote after a quiet spell publishes at once.
    /// </summary>
    private void PublishOrDefer(PollState state)
    {
        var wait = WaitToPublish(state, _time.GetUtcNow());
        if (state.Definition.Kind != PollKind.Ranking || state.Status != PollStatus.Open || wait <= TimeSpan.Zero)
        {
            _deferred.Remove(state);
            Publish(state);
            return;
        }

        if (_deferred.Add(state) && !_trailingArmed)
        {
            _trailingArmed = true;
            _ = PostTrailingAsync(wait);
        }
    }

    /// <summary>How long a ranking poll's next publication must wait (zero or less: it may go now).</summary>
    private TimeSpan WaitToPublish(PollState state, DateTimeOffset now) => state.PublishedAt + _options.RankingPublishDelay - now;

    /// <summary>After <paramref name="wait"/>, queues the work that publishes the deferred polls (on this partition's loop).</summary>
    private async Task PostTrailingAsync(TimeSpan wait)
    {
        await Task.Delay(wait, _time).ConfigureAwait(false);
        if (!Post(new PublishDeferredWork()))
        {
            _trailingArmed = false; // stopping: the state is durable, the next start publishes it
        }
    }

    /// <summary>Publishes the deferred polls whose time has come (from <see cref="PublishDeferredWork"/>), and re-arms for the rest.</summary>
    internal void PublishDeferred()
    {
        _trailingArmed = false;
        var now = _time.GetUtcNow();
        var next = TimeSpan.MaxValue;
        foreach (var state in _deferred.ToArray())
        {
            var wait = WaitToPublish(state, now);
            if (wait <= TimeSpan.Zero || state.Status != PollStatus.Open)
            {
                _deferred.Remove(state);
                Publish(state); // its state is the durable one: a failed batch was reversed before this
            }
            else if (wait < next)
            {
                next = wait;
            }
        }

        if (_deferred.Count > 0)
        {
            _trailingArmed = true;
            _ = PostTrailingAsync(next);
        }
    }

    internal readonly record struct Capture(long Through, byte[] Data);
}
