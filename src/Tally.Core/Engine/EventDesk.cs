using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// What a partition does for events, on its loop: creating an event with its questions, the presenter's commands, joins,
/// the participant check and scoring of answers, and leaderboard queries. An event and its questions share the partition
/// (<see cref="EventIds"/>), so each of these sees and changes them together, and their events commit in one batch.
/// </summary>
internal sealed class EventDesk(Partition partition)
{
    /// <summary>Creates the event and its questions (<paramref name="definitions"/>: the event's first), all or none.</summary>
    public Rejection? Create(IReadOnlyList<PollDefinition> definitions)
    {
        if (definitions.Any(d => partition.FindState(d.Id) is not null))
        {
            return new Rejection(RejectionKind.IdTaken, $"Event id {definitions[0].Id} is taken; retry to get another join code.");
        }

        foreach (var definition in definitions)
        {
            partition.DecideCreate(definition);
        }

        return null;
    }

    /// <summary>Carries out a presenter's command; null when done (or nothing to do), else why not.</summary>
    public Rejection? Control(string eventId, EventAction action, int question)
    {
        if (Find(eventId) is not { } ev)
        {
            return EventRules.UnknownEvent(eventId);
        }

        var progress = ev.Event!;
        var now = partition.Now;
        switch (action)
        {
            case EventAction.Start:
                if (ev.Status == PollStatus.Draft)
                {
                    partition.Record(ev, ev.Open(now, OpenReason.Admin));
                }

                return ev.Status == PollStatus.Closed ? Ended(eventId, "started") : null;
            case EventAction.End:
                LockLive(ev);
                if (ev.Status != PollStatus.Closed)
                {
                    partition.Record(ev, ev.Close(now, CloseReason.Admin));
                }

                return null;
        }

        if (ev.Status != PollStatus.Open)
        {
            return ev.Status == PollStatus.Closed ? Ended(eventId, "changed")
                : new Rejection(RejectionKind.InvalidTransition, $"Event {eventId} has not started: start it before showing, locking or revealing questions.");
        }

        if (action == EventAction.Show)
        {
            if (question < 1 || question > ev.Definition.Options.Count)
            {
                return new Rejection(RejectionKind.Invalid, $"Event {eventId} has questions 1 to {ev.Definition.Options.Count}; there is no question {question}.");
            }

            if (progress.Current == question)
            {
                return null;
            }

            LockLive(ev);
            var shown = partition.FindState(ev.Definition.QuestionId(question))!;
            var round = 0;
            if (shown.Status == PollStatus.Draft)
            {
                partition.Record(shown, shown.Open(now, OpenReason.Admin));
                partition.ScheduleClosing(shown); // a quiz question's time limit runs from now
                round = shown.Definition.Quiz is null ? 0 : progress.Round + 1;
            }

            partition.Record(ev, ev.Record(new QuestionShown(eventId, ev.Seq + 1, now, question, round)));
            return null;
        }

        if (progress.Current == 0)
        {
            return new Rejection(RejectionKind.InvalidTransition, $"Event {eventId} shows no question yet: show one first.");
        }

        LockLive(ev);
        if (action == EventAction.Reveal && !progress.Revealed)
        {
            partition.Record(ev, ev.Record(new ResultsRevealed(eventId, ev.Seq + 1, now, progress.Current)));
        }

        return null;
    }

    /// <summary>Adds the voter to the event under <paramref name="name"/> (already checked by <see cref="EventRules.CheckName"/>); joining again answers their standing.</summary>
    public Outcome<LeaderboardEntry> Join(string eventId, string voterId, string name)
    {
        if (Find(eventId) is not { } ev)
        {
            return EventRules.UnknownEvent(eventId);
        }

        var board = ev.Event!.Leaderboard;
        if (board.Has(voterId))
        {
            return board.StandingOf(voterId)!;
        }

        if (ev.Status == PollStatus.Closed)
        {
            return new Rejection(RejectionKind.PollClosed, $"Event {eventId} has ended; it takes no new participants.");
        }

        if (board.IsNameTaken(name))
        {
            return new Rejection(RejectionKind.NameTaken, $"Another participant of event {eventId} is called \"{PollRules.Clip(name)}\"; choose another name.");
        }

        partition.Record(ev, ev.Record(new ParticipantJoined(eventId, ev.Seq + 1, partition.Now, voterId, name)));
        return board.StandingOf(voterId)!;
    }

    public Outcome<LeaderboardEntry> Standing(string eventId, string voterId) =>
        Find(eventId) is not { } ev ? EventRules.UnknownEvent(eventId)
        : ev.Event!.Leaderboard.StandingOf(voterId) is { } standing ? standing
        : new Rejection(RejectionKind.NotJoined, $"You have not joined event {eventId}.");

    public Outcome<IReadOnlyList<LeaderboardEntry>> Leaders(string eventId, int limit) =>
        Find(eventId) is not { } ev ? EventRules.UnknownEvent(eventId) : ev.Event!.Leaderboard.Top(limit);

    /// <summary>Null when the ballot's voter has joined the event (found in <paramref name="ev"/>); else why they may not answer.</summary>
    public Rejection? WhyNotParticipant(string eventId, CastVote vote, out PollState? ev)
    {
        ev = Find(eventId) ?? throw new InvalidOperationException($"Event {eventId} of a question is not in its partition.");
        return vote.VoterId is { } voter && ev.Event!.Leaderboard.Has(voter)
            ? null
            : new Rejection(RejectionKind.NotJoined, $"Only participants answer the questions of event {eventId}: join it first (POST /v1/events/{eventId}/join).");
    }

    /// <summary>Scores a quiz answer just counted on <paramref name="question"/> (<see cref="QuizScoring"/>), by the server's clock.</summary>
    public ScoreAwarded Score(PollState ev, PollState question, VoteCast answer, QuizSettings quiz)
    {
        var progress = ev.Event!;
        var voter = answer.VoterId!;
        var correct = quiz.IsCorrect(answer.OptionIds[0]);
        var elapsed = answer.At - (question.OpenedAt ?? answer.At);
        var points = correct ? QuizScoring.Points(quiz.Points, quiz.TimeLimit, elapsed) : 0;
        var (streak, lastCorrect) = progress.Leaderboard.StreakOf(voter);
        var round = progress.Round;
        streak = !correct ? 0 : lastCorrect == round - 1 ? streak + 1 : 1;
        var bonus = correct ? QuizScoring.Bonus(progress.Settings.StreakBonus, streak) : 0;
        return ev.Record(new ScoreAwarded(ev.Definition.Id, ev.Seq + 1, answer.At, voter, progress.Current, round, answer.Seq, correct, points, bonus, streak));
    }

    private PollState? Find(string eventId) => partition.FindState(eventId) is { Event: not null } ev ? ev : null;

    /// <summary>Locks the live question's answers (closes it) when it is still open.</summary>
    private void LockLive(PollState ev)
    {
        if (ev.Event!.Current == 0 || partition.FindState(ev.Definition.QuestionId(ev.Event.Current)) is not { } live || live.Status == PollStatus.Closed)
        {
            return;
        }

        var now = partition.Now;
        partition.Record(live, live.IsDue(now) ? live.Close(live.DueAt!.Value, CloseReason.Expired) : live.Close(now, CloseReason.Admin));
    }

    private static Rejection Ended(string eventId, string verb) =>
        new(RejectionKind.InvalidTransition, $"Event {eventId} has ended; it cannot be {verb}.");
}
