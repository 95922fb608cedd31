using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The write-side state of one poll: counts, ballots by voter, idempotency keys. Owned by exactly one
/// partition, so it needs no locks. Every change goes through <see cref="Apply"/> (live and on replay),
/// and <see cref="Unapply"/> reverses it when an append fails.
/// </summary>
internal sealed class PollState
{
    private readonly Dictionary<string, Ballot>? _ballots;
    private readonly Dictionary<string, RememberedVote> _idempotency = new(StringComparer.Ordinal);
    private readonly bool _countsOnly;
    private readonly RankingBallots? _rankings;
    private readonly EventState? _event;
    private readonly TextState? _text;
    private readonly QuestionState? _questions;
    // What Unapply puts back for the events it cannot reverse from the event alone, newest on top (a batch may hold
    // several): the status before a close, the closedAt before a reopening, the voter and keys an erasure forgot.
    // Cleared once the batch is durable (ForgetUndo), so they never hold more than the events of batches in flight.
    private readonly Stack<PollStatus> _statusBeforeClose = new();
    private readonly Stack<DateTimeOffset?> _closedAtBeforeReopen = new();
    private readonly Stack<(string? Voter, List<KeyValuePair<string, RememberedVote>> Keys)> _erased = new();

    /// <param name="countsOnly">
    /// True for a read-only projection of the results (a cluster node's read side): events are applied to the
    /// counts only, and no ballots or idempotency keys are kept, so such a state cannot decide votes.
    /// </param>
    public PollState(PollDefinition definition, long createdPosition, bool countsOnly = false)
    {
        Definition = definition;
        CreatedPosition = createdPosition;
        Counts = new long[definition.Options.Count];
        Seq = 1;
        Status = definition.StartsAsDraft ? PollStatus.Draft : PollStatus.Open;
        _countsOnly = countsOnly;
        if (definition.Kind == PollKind.Ranking)
        {
            _rankings = new RankingBallots(); // a read-only projection needs them too: its results carry the runoff
        }

        if (definition.Event is { } settings)
        {
            _event = new EventState(settings);
        }

        if (definition.Text is not null)
        {
            _text = new TextState(); // a read-only projection needs it too: its results carry the terms
        }

        if (definition.Questions is not null)
        {
            _questions = new QuestionState(countsOnly); // a Q&A poll keeps its voters there, not as ballots
        }

        if (definition.Dedupe == DedupePolicy.Voter && !countsOnly && _questions is null)
        {
            _ballots = new Dictionary<string, Ballot>(StringComparer.Ordinal);
        }
    }

    public PollDefinition Definition { get; }

    public long CreatedPosition { get; set; }

    /// <summary>When the partition last published this poll's results (it paces ranking polls by it).</summary>
    public DateTimeOffset PublishedAt { get; set; } = DateTimeOffset.MinValue;

    public PollStatus Status { get; private set; }

    public DateTimeOffset? ClosedAt { get; private set; }

    /// <summary>When the poll was opened by hand or on schedule (a quiz question's clock starts then); null before.</summary>
    public DateTimeOffset? OpenedAt { get; private set; }

    /// <summary>On an event: its live question, leaderboard and the rest; null on other kinds.</summary>
    public EventState? Event => _event;

    /// <summary>On a text poll: its counted and held answers and their terms; null on other kinds.</summary>
    public TextState? Text => _text;

    /// <summary>On a Q&amp;A poll: its questions, their upvotes and each voter's; null on other kinds.</summary>
    public QuestionState? Questions => _questions;

    /// <summary>When the poll closes by itself: its <c>closesAt</c>, or a shown quiz question's time limit after its showing.</summary>
    public DateTimeOffset? DueAt => Definition.ClosesAt ?? (Definition.Quiz is { } quiz && OpenedAt is { } opened ? opened + quiz.TimeLimit : null);

    public long Seq { get; private set; }

    public long[] Counts { get; }

    public long TotalVotes { get; private set; }

    public int BallotCount => _ballots?.Count ?? 0;

    /// <summary>
    /// The options of <paramref name="voterId"/>'s ballot, or null when they have none (or the poll keeps no ballots); on a Q&amp;A
    /// poll none when the voter asked or upvoted a question.
    /// </summary>
    public int[]? BallotOf(string voterId) =>
        _questions?.HasVoter(voterId) == true ? [] : _ballots is not null && _ballots.TryGetValue(voterId, out var ballot) ? ballot.OptionIds : null;

    public int IdempotencyKeyCount => _idempotency.Count;

    /// <summary>The poll's results now, as an immutable value (the counts are copied).</summary>
    /// <remarks>On a ranking poll this recounts the instant runoff from the distinct rankings (<see cref="RankingBallots"/>).</remarks>
    public PollResults ToResults() =>
        new(Definition, Seq, Status, ClosedAt, TotalVotes, Counts.ToArray(), _rankings?.Results(Definition.Options.Count, TotalVotes), _event?.ToView(), OpenedAt, _text?.ToResults(), _questions?.ToResults());

    /// <summary>True when the poll is not closed but its <see cref="DueAt"/> has passed (a draft or paused poll closes too).</summary>
    public bool IsDue(DateTimeOffset now) => Status != PollStatus.Closed && DueAt is { } at && at <= now;

    /// <summary>True when the poll is scheduled and its <c>opensAt</c> has come.</summary>
    public bool IsDueToOpen(DateTimeOffset now) => Status == PollStatus.Draft && Definition.OpensAt is { } at && at <= now && !IsDue(now);

    /// <summary>True when the poll has counted its <c>maxBallots</c> and is not closed yet.</summary>
    public bool IsFull => Status != PollStatus.Closed && Definition.MaxBallots is { } max && TotalVotes >= max;

    /// <summary>Applies <paramref name="transition"/> and gives its event, or says why the poll cannot make it (null event: nothing to do).</summary>
    public Rejection? Transition(PollTransition transition, DateTimeOffset now, out PollEvent? made)
    {
        made = null;
        var (from, to) = transition switch
        {
            PollTransition.Open => (PollStatus.Draft, PollStatus.Open),
            PollTransition.Pause => (PollStatus.Open, PollStatus.Paused),
            PollTransition.Resume => (PollStatus.Paused, PollStatus.Open),
            _ => (PollStatus.Closed, PollStatus.Open),
        };
        if (Definition.EventId is { } eventId)
        {
            return new Rejection(RejectionKind.InvalidTransition, $"Poll {Definition.Id} is a question of event {eventId}: the event's presenter shows it (and closing it locks its answers).");
        }

        if (transition == PollTransition.Reopen && Status == PollStatus.Closed && WhyNotReopen(now) is { } why)
        {
            return new Rejection(RejectionKind.InvalidTransition, $"Poll {Definition.Id} cannot be reopened: {why}.");
        }

        if (Status == to)
        {
            return null; // already there: answered with the poll as it is
        }

        if (Status != from)
        {
            return new Rejection(RejectionKind.InvalidTransition, $"Poll {Definition.Id} is {Describe(Status)}; it cannot {Verb(transition)}.");
        }

        made = transition switch
        {
            PollTransition.Open => new PollOpened(Definition.Id, Seq + 1, now, OpenReason.Admin),
            PollTransition.Pause => new PollPaused(Definition.Id, Seq + 1, now),
            PollTransition.Resume => new PollResumed(Definition.Id, Seq + 1, now),
            _ => new PollReopened(Definition.Id, Seq + 1, now),
        };
        Apply(made);
        return null;
    }

    private string? WhyNotReopen(DateTimeOffset now) =>
        !Definition.AllowReopen ? "it was not made with allowReopen"
        : Definition.ClosesAt is { } at && at <= now ? "its closesAt has passed"
        : Definition.MaxBallots is { } max && TotalVotes >= max ? "it has counted its maxBallots"
        : null;

    /// <summary>
    /// Erases <paramref name="voterId"/>'s ballot (it leaves the counts, the poll forgets the voter and their idempotency
    /// keys) and gives the event; null when the voter has no ballot. Only a poll that keeps ballots by voter can. On a Q&amp;A
    /// poll the voter's questions and upvotes go (<see cref="QuestionsErased"/>).
    /// </summary>
    public PollEvent? Erase(string voterId, DateTimeOffset now)
    {
        if (_questions is not null)
        {
            var gone = _questions.ErasureOf(Definition.Id, voterId, Seq + 1, now);
            if (gone is not null)
            {
                Apply(gone);
            }

            return gone;
        }

        if (_ballots is null || !_ballots.TryGetValue(voterId, out var ballot))
        {
            return null;
        }

        var e = new BallotErased(Definition.Id, Seq + 1, now, ballot.Seq, ballot.OptionIds);
        Apply(e);
        return e;
    }

    /// <summary>Opens a scheduled poll whose time has come.</summary>
    public PollOpened OpenOnSchedule(DateTimeOffset at) => Open(at, OpenReason.Scheduled);

    /// <summary>Opens a draft poll (an event or its question, by the presenter's command).</summary>
    public PollOpened Open(DateTimeOffset at, OpenReason reason)
    {
        var e = new PollOpened(Definition.Id, Seq + 1, at, reason);
        Apply(e);
        return e;
    }

    /// <summary>Applies one of the event's own facts (<see cref="EventState.Handles"/>), made by the partition, and gives it back.</summary>
    public T Record<T>(T e) where T : PollEvent
    {
        Apply(e);
        return e;
    }

    private string Describe(PollStatus status) => status switch
    {
        PollStatus.Draft => Definition.OpensAt is null ? "a draft" : "scheduled",
        PollStatus.Paused => "paused",
        PollStatus.Closed => "closed",
        _ => "open",
    };

    private static string Verb(PollTransition transition) => transition switch
    {
        PollTransition.Open => "be opened (only a draft or scheduled poll opens)",
        PollTransition.Pause => "be paused (only an open poll pauses)",
        PollTransition.Resume => "be resumed (only a paused poll resumes)",
        _ => "be reopened (only a closed poll reopens)",
    };

    public PollClosed Close(DateTimeOffset now, CloseReason reason)
    {
        var e = new PollClosed(Definition.Id, Seq + 1, now, reason);
        Apply(e);
        return e;
    }

    /// <summary>Decides a ballot (already checked against the definition) and applies the event it makes, if any.</summary>
    public VoteOutcome Decide(CastVote vote, DateTimeOffset now, out PollEvent? made)
    {
        if (_countsOnly)
        {
            throw new InvalidOperationException($"The state of poll {Definition.Id} holds counts only; it cannot decide votes.");
        }

        made = null;
        if (vote.IdempotencyKey is { } key && _idempotency.TryGetValue(key, out var first))
        {
            if (first.VoterId != vote.VoterId || !SameChoices(first.OptionIds, vote.OptionIds, ordered: _rankings is not null) || first.Text != vote.Text || first.Upvote != (vote.Upvote ?? 0))
            {
                return VoteOutcome.Rejected(new Rejection(
                    RejectionKind.IdempotencyKeyReused,
                    $"Idempotency key \"{PollRules.Clip(key)}\" was used for a different vote on this poll."));
            }

            return new VoteOutcome(first.Changed ? VoteStatus.Changed : VoteStatus.Counted, VoteIds.Format(Definition.Id, first.BallotSeq), first.Seq, null, Replayed: true);
        }

        if (Status == PollStatus.Closed)
        {
            return VoteOutcome.Rejected(new Rejection(RejectionKind.PollClosed, $"Poll {Definition.Id} is closed."));
        }

        if (Status != PollStatus.Open)
        {
            var detail = Status == PollStatus.Paused
                ? $"Voting on poll {Definition.Id} is paused; it resumes when its presenter says so."
                : Definition.OpensAt is { } opensAt
                    ? $"Poll {Definition.Id} opens at {opensAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}."
                    : $"Poll {Definition.Id} is a draft: it takes votes once it is opened.";
            return VoteOutcome.Rejected(new Rejection(RejectionKind.PollNotOpen, detail));
        }

        if (_questions is not null)
        {
            var asked = _questions.Decide(Definition, vote, Seq + 1, now, out var refused);
            if (asked is null)
            {
                return VoteOutcome.Rejected(refused!);
            }

            Apply(asked);
            made = asked;
            return new VoteOutcome(VoteStatus.Counted, VoteIds.Format(Definition.Id, asked.Seq), asked.Seq, null);
        }

        if (_ballots is not null && _ballots.TryGetValue(vote.VoterId!, out var ballot))
        {
            if (!Definition.AllowChange)
            {
                return VoteOutcome.Rejected(new Rejection(
                    RejectionKind.AlreadyVoted,
                    $"Voter \"{PollRules.Clip(vote.VoterId!)}\" has already voted on poll {Definition.Id} (vote {VoteIds.Format(Definition.Id, ballot.Seq)}), and this poll does not allow changes."));
            }

            var changed = new VoteChanged(Definition.Id, Seq + 1, now, vote.VoterId!, vote.OptionIds, ballot.OptionIds, ballot.Seq, vote.IdempotencyKey);
            Apply(changed);
            made = changed;
            return new VoteOutcome(VoteStatus.Changed, changed.VoteId, changed.Seq, null);
        }

        if (_text is not null)
        {
            var moderated = Definition.Text!.Moderated;
            if (moderated && _text.HeldCount >= TextRules.MaxHeld)
            {
                return VoteOutcome.Rejected(new Rejection(RejectionKind.Unavailable, $"Poll {Definition.Id} holds {TextRules.MaxHeld:N0} answers waiting for moderation; it takes more once some are approved or rejected."));
            }

            var answered = new TextAnswered(Definition.Id, Seq + 1, now, vote.VoterId, vote.Text!, vote.Terms ?? [], moderated, vote.IdempotencyKey);
            Apply(answered);
            made = answered;
            return new VoteOutcome(VoteStatus.Counted, answered.VoteId, answered.Seq, null);
        }

        var cast = new VoteCast(Definition.Id, Seq + 1, now, vote.VoterId, vote.OptionIds, vote.IdempotencyKey);
        Apply(cast);
        made = cast;
        return new VoteOutcome(VoteStatus.Counted, cast.VoteId, cast.Seq, null);
    }

    /// <summary>Applies the next event of this poll. Throws when <paramref name="e"/> is not the next seq.</summary>
    public void Apply(PollEvent e)
    {
        if (e.Seq != Seq + 1)
        {
            throw new InvalidOperationException($"Poll {Definition.Id} is at seq {Seq}; event seq {e.Seq} is not the next one.");
        }

        switch (e)
        {
            case VoteCast v:
                Add(v.OptionIds, +1);
                TotalVotes++;
                if (_ballots is not null && v.VoterId is not null)
                {
                    _ballots[v.VoterId] = new Ballot(v.Seq, v.OptionIds);
                }

                Remember(v.IdempotencyKey, new RememberedVote(v.Seq, v.Seq, false, v.VoterId, v.OptionIds, v.At));
                break;
            case TextAnswered t:
                TotalVotes++;
                if (_ballots is not null && t.VoterId is not null)
                {
                    _ballots[t.VoterId] = new Ballot(t.Seq, []);
                }

                Remember(t.IdempotencyKey, new RememberedVote(t.Seq, t.Seq, false, t.VoterId, [], t.At, t.Text));
                _text!.Apply(t);
                break;
            case AnswerModerated m when _questions is not null:
                _questions.Apply(m);
                break;
            case AnswerModerated m:
                _text!.Apply(m);
                break;
            case QuestionAsked a:
                TotalVotes++;
                Remember(a.IdempotencyKey, new RememberedVote(a.Seq, a.Seq, false, a.VoterId, [], a.At, a.Text));
                _questions!.Apply(a);
                break;
            case QuestionUpvoted u:
                TotalVotes++;
                Remember(u.IdempotencyKey, new RememberedVote(u.Seq, u.Seq, false, u.VoterId, [], u.At, null, u.QuestionSeq));
                _questions!.Apply(u);
                break;
            case QuestionAnswered x:
                _questions!.Apply(x);
                break;
            case QuestionsErased q:
                TotalVotes -= q.Asked.Length + q.Upvotes.Length;
                _erased.Push((null, ForgetKeysOf([.. q.Seqs])));
                _questions!.Apply(q);
                break;
            case VoteChanged v:
                Add(v.PreviousOptionIds, -1);
                Add(v.OptionIds, +1);
                _ballots?[v.VoterId] = new Ballot(v.BallotSeq, v.OptionIds);
                Remember(v.IdempotencyKey, new RememberedVote(v.Seq, v.BallotSeq, true, v.VoterId, v.OptionIds, v.At));
                break;
            case PollClosed c:
                _statusBeforeClose.Push(Status);
                Status = PollStatus.Closed;
                ClosedAt = c.At;
                break;
            case PollOpened:
                Status = PollStatus.Open;
                OpenedAt = e.At;
                break;
            case PollResumed:
                Status = PollStatus.Open;
                break;
            case PollReopened:
                _closedAtBeforeReopen.Push(ClosedAt);
                Status = PollStatus.Open;
                ClosedAt = null;
                break;
            case PollPaused:
                Status = PollStatus.Paused;
                break;
            case BallotErased b:
                Add(b.OptionIds, -1);
                TotalVotes--;
                _erased.Push((ForgetBallot(b.BallotSeq), ForgetKeysOf(b.BallotSeq)));
                _text?.Erase(b.BallotSeq);
                break;
            case var _ when _event is not null && EventState.Handles(e):
                _event.Apply(e);
                break;
            default:
                throw new InvalidOperationException($"{e.GetType().Name} cannot be applied to an existing poll.");
        }

        Seq = e.Seq;
    }

    /// <summary>Reverses <paramref name="e"/>, which must be the last event applied.</summary>
    public void Unapply(PollEvent e)
    {
        if (e.Seq != Seq)
        {
            throw new InvalidOperationException($"Poll {Definition.Id} is at seq {Seq}; only its last event can be reversed, not seq {e.Seq}.");
        }

        switch (e)
        {
            case VoteCast v:
                Add(v.OptionIds, -1);
                TotalVotes--;
                if (_ballots is not null && v.VoterId is not null)
                {
                    _ballots.Remove(v.VoterId);
                }

                Forget(v.IdempotencyKey);
                break;
            case TextAnswered t:
                TotalVotes--;
                if (_ballots is not null && t.VoterId is not null)
                {
                    _ballots.Remove(t.VoterId);
                }

                Forget(t.IdempotencyKey);
                _text!.Unapply(t);
                break;
            case AnswerModerated m when _questions is not null:
                _questions.Unapply(m);
                break;
            case AnswerModerated m:
                _text!.Unapply(m);
                break;
            case QuestionAsked a:
                TotalVotes--;
                Forget(a.IdempotencyKey);
                _questions!.Unapply(a);
                break;
            case QuestionUpvoted u:
                TotalVotes--;
                Forget(u.IdempotencyKey);
                _questions!.Unapply(u);
                break;
            case QuestionAnswered x:
                _questions!.Unapply(x);
                break;
            case QuestionsErased q:
                TotalVotes += q.Asked.Length + q.Upvotes.Length;
                _questions!.Unapply(q);
                if (_erased.TryPop(out var keys))
                {
                    foreach (var (key, vote) in keys.Keys)
                    {
                        _idempotency[key] = vote;
                    }
                }

                break;
            case VoteChanged v:
                Add(v.OptionIds, -1);
                Add(v.PreviousOptionIds, +1);
                _ballots?[v.VoterId] = new Ballot(v.BallotSeq, v.PreviousOptionIds);
                Forget(v.IdempotencyKey);
                break;
            case PollClosed:
                Status = _statusBeforeClose.TryPop(out var before) ? before : PollStatus.Open;
                ClosedAt = null;
                break;
            case PollOpened:
                Status = PollStatus.Draft;
                OpenedAt = null;
                break;
            case PollPaused:
                Status = PollStatus.Open;
                break;
            case PollResumed:
                Status = PollStatus.Paused;
                break;
            case PollReopened:
                Status = PollStatus.Closed;
                ClosedAt = _closedAtBeforeReopen.TryPop(out var closedAt) ? closedAt : null;
                break;
            case BallotErased b:
                Add(b.OptionIds, +1);
                TotalVotes++;
                _text?.Unerase(b.BallotSeq);
                if (_erased.TryPop(out var erased))
                {
                    if (erased.Voter is not null)
                    {
                        _ballots![erased.Voter] = new Ballot(b.BallotSeq, b.OptionIds);
                    }

                    foreach (var (key, vote) in erased.Keys)
                    {
                        _idempotency[key] = vote;
                    }
                }

                break;
            case var _ when _event is not null && EventState.Handles(e):
                _event.Unapply(e);
                break;
            default:
                throw new InvalidOperationException($"{e.GetType().Name} cannot be reversed on an existing poll.");
        }

        Seq = e.Seq - 1;
    }

    /// <summary>Forgets idempotency keys first used before <paramref name="cutoff"/>.</summary>
    public int PruneIdempotencyKeys(DateTimeOffset cutoff)
    {
        var removed = 0;
        foreach (var (key, value) in _idempotency)
        {
            if (value.At < cutoff)
            {
                _idempotency.Remove(key);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>The state in snapshot form <see cref="SnapshotFormat.Version"/>.</summary>
    public void Write(BinaryWriter w)
    {
        EventCodec.WriteDefinition(w, Definition, SnapshotFormat.DefinitionVersion(SnapshotFormat.Version));
        w.Write(CreatedPosition);
        w.Write((byte)Status);
        w.Write(ClosedAt?.ToUnixTimeMilliseconds() ?? long.MinValue);
        w.Write(Seq);
        w.Write(TotalVotes);
        foreach (var c in Counts)
        {
            w.Write(c);
        }

        w.Write(_ballots?.Count ?? 0);
        if (_ballots is not null)
        {
            foreach (var (voter, ballot) in _ballots)
            {
                w.Write(voter);
                w.Write(ballot.Seq);
                EventCodec.WriteIds(w, ballot.OptionIds);
            }
        }

        w.Write(_idempotency.Count);
        foreach (var (key, r) in _idempotency)
        {
            w.Write(key);
            w.Write(r.Seq);
            w.Write(r.BallotSeq);
            w.Write(r.Changed);
            EventCodec.WriteNullable(w, r.VoterId);
            EventCodec.WriteIds(w, r.OptionIds);
            w.Write(r.At.ToUnixTimeMilliseconds());
            EventCodec.WriteNullable(w, r.Text); // form 5
            w.Write(r.Upvote); // form 7
        }

        _rankings?.Write(w); // snapshot form 3: only ranking polls (a kind that form brought) have this part
        w.Write(OpenedAt?.ToUnixTimeMilliseconds() ?? long.MinValue); // form 5
        _event?.Write(w); // form 5: only events (a kind that form brought) have this part
        _text?.Write(w); // form 5: likewise text polls
        _questions?.Write(w); // form 7: likewise Q&A polls
    }

    /// <summary>Reads a state written in snapshot form <paramref name="snapshotVersion"/>.</summary>
    public static PollState Read(BinaryReader r, int snapshotVersion)
    {
        var state = new PollState(EventCodec.ReadDefinition(r, SnapshotFormat.DefinitionVersion(snapshotVersion)), r.ReadInt64());
        state.Status = (PollStatus)r.ReadByte();
        var closedAt = r.ReadInt64();
        state.ClosedAt = closedAt == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(closedAt);
        state.Seq = r.ReadInt64();
        state.TotalVotes = r.ReadInt64();
        for (var i = 0; i < state.Counts.Length; i++)
        {
            state.Counts[i] = r.ReadInt64();
        }

        var ballots = r.ReadInt32();
        for (var i = 0; i < ballots; i++)
        {
            var voter = r.ReadString();
            state._ballots![voter] = new Ballot(r.ReadInt64(), EventCodec.ReadIds(r));
        }

        var keys = r.ReadInt32();
        for (var i = 0; i < keys; i++)
        {
            var key = r.ReadString();
            state._idempotency[key] = new RememberedVote(
                r.ReadInt64(), r.ReadInt64(), r.ReadBoolean(), EventCodec.ReadNullable(r), EventCodec.ReadIds(r),
                DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64()), snapshotVersion >= 5 ? EventCodec.ReadNullable(r) : null, snapshotVersion >= 7 ? r.ReadInt64() : 0);
        }

        state._rankings?.Read(r);
        if (snapshotVersion >= 5)
        {
            var openedAt = r.ReadInt64();
            state.OpenedAt = openedAt == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(openedAt);
            state._event?.Read(r);
            state._text?.Read(r, snapshotVersion);
            state._questions?.Read(r); // only form 7 has Q&A polls
        }

        return state;
    }

    /// <summary>
    /// Adds a ballot to the counts (<paramref name="delta"/> 1) or takes it out (-1). On a ranking poll the counts are
    /// Borda scores: of N options, the first ranked gets N points, the next N - 1, and so on; an unranked option none.
    /// </summary>
    private void Add(int[] optionIds, int delta)
    {
        if (_rankings is not null)
        {
            var points = (long)Definition.Options.Count;
            foreach (var id in optionIds)
            {
                Counts[id - 1] += delta * points--;
            }

            _rankings.Add(optionIds, delta);
            return;
        }

        foreach (var id in optionIds)
        {
            Counts[id - 1] += delta;
        }
    }

    /// <summary>Drops what <see cref="Unapply"/> would need: every event applied so far is durable.</summary>
    public void ForgetUndo()
    {
        _statusBeforeClose.Clear();
        _closedAtBeforeReopen.Clear();
        _erased.Clear();
        _event?.ForgetUndo();
        _text?.ForgetUndo();
        _questions?.ForgetUndo();
    }

    /// <summary>Removes the ballot made at <paramref name="ballotSeq"/> from the ballots by voter; its voter, or null (none kept).</summary>
    private string? ForgetBallot(long ballotSeq)
    {
        if (_ballots is null)
        {
            return null;
        }

        foreach (var (voter, ballot) in _ballots)
        {
            if (ballot.Seq == ballotSeq)
            {
                _ballots.Remove(voter);
                return voter;
            }
        }

        return null;
    }

    /// <summary>Removes the idempotency keys of the ballot made at <paramref name="ballotSeq"/> (they hold its voter id).</summary>
    private List<KeyValuePair<string, RememberedVote>> ForgetKeysOf(long ballotSeq) => ForgetKeysOf([ballotSeq]);

    /// <summary>Removes the idempotency keys of the ballots (questions, upvotes) made at <paramref name="ballotSeqs"/>.</summary>
    private List<KeyValuePair<string, RememberedVote>> ForgetKeysOf(HashSet<long> ballotSeqs)
    {
        var removed = new List<KeyValuePair<string, RememberedVote>>();
        foreach (var entry in _idempotency)
        {
            if (ballotSeqs.Contains(entry.Value.BallotSeq))
            {
                removed.Add(entry);
            }
        }

        foreach (var (key, _) in removed)
        {
            _idempotency.Remove(key);
        }

        return removed;
    }

    private void Remember(string? key, RememberedVote vote)
    {
        if (key is not null && !_countsOnly)
        {
            _idempotency[key] = vote;
        }
    }

    private void Forget(string? key)
    {
        if (key is not null)
        {
            _idempotency.Remove(key);
        }
    }

    /// <param name="ordered">True on a ranking poll, where the order is the ballot.</param>
    private static bool SameChoices(int[] a, int[] b, bool ordered)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        if (ordered)
        {
            return a.AsSpan().SequenceEqual(b);
        }

        foreach (var id in a)
        {
            if (Array.IndexOf(b, id) < 0)
            {
                return false;
            }
        }

        return true;
    }

    private readonly record struct Ballot(long Seq, int[] OptionIds);

    /// <param name="Upvote">On a Q&amp;A poll's upvote: the question's seq (0 otherwise).</param>
    private sealed record RememberedVote(long Seq, long BallotSeq, bool Changed, string? VoterId, int[] OptionIds, DateTimeOffset At, string? Text = null, long Upvote = 0);
}
