using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Xunit;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="ITallyEngine"/> must do with events: create one with its questions, present it (start, show, reveal,
/// lock, end), take joins, refuse answers from outsiders, score quiz answers by the engine's clock, and rank the leaderboard.
/// </summary>
public abstract class EngineEventsSpecification : EnginePollsSpecification
{
    private static CreatePoll Quiz(string question, int correct, int timeLimitSeconds = 20) =>
        new(question, ["A", "B", "C"], PollKind.Quiz, Correct: [correct], Points: 1000, TimeLimitSeconds: timeLimitSeconds);

    private async Task<(EnginesUnderTest Engines, string Event)> CreateEventAsync(int streakBonus = 0, params CreatePoll[] questions)
    {
        var engines = await StartAsync();
        var id = TallyEngine.NewPollId();
        var created = Value(await engines.Writer.CreateEventAsync(
            new CreateEvent("Friday quiz", questions.Length > 0 ? questions : [Quiz("One?", 2), Quiz("Two?", 1), new CreatePoll("Rate us", null, PollKind.Rating)], "ABCDEFG", StreakBonus: streakBonus),
            id).WaitAsync(Timeout));
        Assert.Equal(id, created.Poll.Id);
        return (engines, id);
    }

    private static async Task<PollResults> ControlAsync(ITallyEngine engine, string ev, EventAction action, int question = 0) =>
        Value(await engine.ControlEventAsync(ev, action, question).WaitAsync(Timeout));

    private static async Task<LeaderboardEntry> JoinAsync(ITallyEngine engine, string ev, string voter) =>
        Value(await engine.JoinEventAsync(ev, voter, voter.ToUpperInvariant()).WaitAsync(Timeout));

    [Fact]
    public async Task An_event_id_that_is_taken_is_refused_as_id_taken_and_the_first_event_stays()
    {
        var (engines, id) = await CreateEventAsync();
        var again = await engines.Writer.CreateEventAsync(new CreateEvent("Another", [Quiz("Three?", 1)], "HJKMNPQ"), id).WaitAsync(Timeout);

        Assert.Equal(RejectionKind.IdTaken, again.Rejection?.Kind); // the API draws another join code on this, and only on this
        Assert.Equal("Friday quiz", Value(await engines.Writer.GetResultsAsync(id, default).AsTask().WaitAsync(Timeout)).Poll.Question);
    }

    [Fact]
    public async Task An_event_is_made_with_its_questions_as_drafts_that_share_its_partition()
    {
        var (engines, ev) = await CreateEventAsync();

        var results = await ResultsAsync(engines.Reader, ev);
        Assert.Equal((PollKind.Event, PollStatus.Draft, "Friday quiz", 3), (results.Poll.Kind, results.Status, results.Poll.Question, results.Poll.Options.Count));
        Assert.Equal(new EventView(0, null, false, 0, 0, []), results.Event! with { Leaders = [], Changed = null });
        Assert.Equal("ABCDEFG", results.Poll.Event!.JoinCode);
        for (var n = 1; n <= 3; n++)
        {
            var question = await ResultsAsync(engines.Reader, ev + "q" + n);
            Assert.Equal((PollStatus.Draft, ev), (question.Status, question.Poll.EventId));
            Assert.Equal(TallyEngine.PartitionIndex(ev, 16), TallyEngine.PartitionIndex(question.Poll.Id, 16));
        }

        var quiz = (await ResultsAsync(engines.Reader, ev + "q1")).Poll;
        Assert.Equal((PollKind.Quiz, 1000, TimeSpan.FromSeconds(20)), (quiz.Kind, quiz.Quiz!.Points, quiz.Quiz.TimeLimit));
        Assert.Equal([2], quiz.Quiz.Correct);
    }

    [Fact]
    public async Task A_quiz_scores_each_correct_answer_by_the_engines_clock_and_ranks_the_leaderboard()
    {
        var (engines, ev) = await CreateEventAsync(streakBonus: 100);
        var w = engines.Writer;
        await JoinAsync(w, ev, "ada");
        await JoinAsync(w, ev, "bob");
        await ControlAsync(w, ev, EventAction.Start);
        var shown = await ControlAsync(w, ev, EventAction.Show, 1);
        Assert.Equal((1, false, 1), (shown.Event!.Current, shown.Event.Revealed, shown.Event.Round));

        Assert.Equal(VoteStatus.Counted, (await VoteAsync(w, ev + "q1", 2, "ada")).Status); // t = 0: full points
        Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(w, ev + "q1", 2, "bob")).Status); // t = T/2: 1000 × (1 − 1/4)
        Assert.Equal(RejectionKind.NotJoined, (await VoteAsync(w, ev + "q1", 2, "cara")).Rejection?.Kind);

        var leaders = Value(await w.GetLeadersAsync(ev, 10, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(["1 ada 1000 1", "2 bob 750 1"], leaders.Select(e => $"{e.Rank} {e.VoterId} {e.Score} {e.Streak}"));

        await ControlAsync(w, ev, EventAction.Show, 2); // locks question 1
        Assert.Equal(PollStatus.Closed, (await ResultsAsync(engines.Reader, ev + "q1")).Status);
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(w, ev + "q2", 2, "ada")).Status); // wrong: 0, streak ends
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(w, ev + "q2", 1, "bob")).Status); // right at t = 0, a streak of 2: 1000 + 100

        var bob = Value(await w.FindStandingAsync(ev, "bob", default).AsTask().WaitAsync(Timeout));
        var ada = Value(await w.FindStandingAsync(ev, "ada", default).AsTask().WaitAsync(Timeout));
        Assert.Equal((1, 1850L, 2, 2, 2), (bob.Rank, bob.Score, bob.Streak, bob.Correct, bob.Answered));
        Assert.Equal((2, 1000L, 0, 1, 2), (ada.Rank, ada.Score, ada.Streak, ada.Correct, ada.Answered));
        Assert.Equal(RejectionKind.NotJoined, (await w.FindStandingAsync(ev, "cara", default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);

        var revealed = await ControlAsync(w, ev, EventAction.Reveal);
        Assert.True(revealed.Event!.Revealed);
        Assert.Equal(["BOB 1850", "ADA 1000"], revealed.Event.Leaders.Select(e => $"{e.Name} {e.Score}"));
        await Eventually.WaitUntilAsync(async () => (await ResultsAsync(engines.Reader, ev)).Event!.Revealed, Timeout);
        var read = await ResultsAsync(engines.Reader, ev);
        Assert.Equal((2, 2), (read.Event!.Participants, read.Event.Leaders.Count));
    }

    [Fact]
    public async Task A_quiz_question_closes_at_its_time_limit_and_refuses_answers_after_it()
    {
        var (engines, ev) = await CreateEventAsync(0, Quiz("Quick?", 1, timeLimitSeconds: 5), Quiz("Next?", 1));
        var w = engines.Writer;
        await JoinAsync(w, ev, "ada");
        await ControlAsync(w, ev, EventAction.Start);
        var shownAt = (await ControlAsync(w, ev, EventAction.Show, 1)).Event!.ShownAt!.Value;

        Clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(RejectionKind.PollClosed, (await VoteAsync(w, ev + "q1", 1, "ada")).Rejection?.Kind);
        var question = await ResultsAsync(w, ev + "q1");
        Assert.Equal((PollStatus.Closed, shownAt.AddSeconds(5)), (question.Status, question.ClosedAt!.Value));
        Assert.Equal(0L, Value(await w.FindStandingAsync(ev, "ada", default).AsTask().WaitAsync(Timeout)).Score);
    }

    [Fact]
    public async Task Equal_scores_rank_by_who_reached_the_score_first()
    {
        var (engines, ev) = await CreateEventAsync();
        var w = engines.Writer;
        foreach (var voter in new[] { "cara", "ada", "bob" })
        {
            await JoinAsync(w, ev, voter);
        }

        await ControlAsync(w, ev, EventAction.Start);
        await ControlAsync(w, ev, EventAction.Show, 1);
        await VoteAsync(w, ev + "q1", 2, "bob"); // both at t = 0: 1000 each, bob first
        await VoteAsync(w, ev + "q1", 2, "ada");

        var leaders = Value(await w.GetLeadersAsync(ev, 10, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(["bob", "ada", "cara"], leaders.Select(e => e.VoterId)); // cara: 0 since she joined
        Assert.Equal(["bob"], Value(await w.GetLeadersAsync(ev, 1, default).AsTask().WaitAsync(Timeout)).Select(e => e.VoterId));
    }

    [Fact]
    public async Task Joins_are_unique_by_voter_and_by_name_and_end_with_the_event()
    {
        var (engines, ev) = await CreateEventAsync();
        var w = engines.Writer;
        var first = await JoinAsync(w, ev, "ada");
        Assert.Equal((1, "ADA", 0L), (first.Rank, first.Name, first.Score));
        Assert.Equal(first, await JoinAsync(w, ev, "ada")); // again: the same standing, no second entry
        Assert.Equal(RejectionKind.NameTaken, (await w.JoinEventAsync(ev, "bob", "ada").WaitAsync(Timeout)).Rejection?.Kind); // names are case-blind

        await ControlAsync(w, ev, EventAction.Start);
        await ControlAsync(w, ev, EventAction.End);
        Assert.Equal(RejectionKind.PollClosed, (await w.JoinEventAsync(ev, "bob", "Bob").WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(1, (await ResultsAsync(w, ev)).Event!.Participants);
    }

    [Fact]
    public async Task A_presenters_command_out_of_order_is_refused_and_nothing_changes()
    {
        var (engines, ev) = await CreateEventAsync();
        var w = engines.Writer;

        Assert.Equal(RejectionKind.InvalidTransition, (await w.ControlEventAsync(ev, EventAction.Show, 1).WaitAsync(Timeout)).Rejection?.Kind); // not started
        await ControlAsync(w, ev, EventAction.Start);
        Assert.Equal(RejectionKind.InvalidTransition, (await w.ControlEventAsync(ev, EventAction.Reveal, 0).WaitAsync(Timeout)).Rejection?.Kind); // nothing shown
        Assert.Equal(RejectionKind.Invalid, (await w.ControlEventAsync(ev, EventAction.Show, 4).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownPoll, (await w.ControlEventAsync("nosuchevent", EventAction.Start, 0).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownPoll, (await w.ControlEventAsync(ev + "q1", EventAction.Start, 0).WaitAsync(Timeout)).Rejection?.Kind); // a question is no event
        Assert.Equal(RejectionKind.InvalidTransition, (await w.ChangePollStatusAsync(ev + "q1", PollTransition.Open).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await VoteAsync(w, ev, 1, "ada")).Rejection?.Kind); // an event takes no ballots

        var read = await ResultsAsync(w, ev);
        Assert.Equal((PollStatus.Open, 0, 2L), (read.Status, read.Event!.Current, read.Seq)); // created, started
        await ControlAsync(w, ev, EventAction.End);
        Assert.Equal(RejectionKind.InvalidTransition, (await w.ControlEventAsync(ev, EventAction.Show, 1).WaitAsync(Timeout)).Rejection?.Kind);
    }

    [Fact]
    public async Task An_invalid_event_is_refused_with_every_wrong_field()
    {
        var engines = await StartAsync();
        var refused = await engines.Writer.CreateEventAsync(
            new CreateEvent(" ", [new CreatePoll("Q?", ["A", "B"], PollKind.Quiz), new CreatePoll("Q?", ["A", "B"], PollKind.Quiz, Correct: [1, 2])], "ABCDEFG", Passcode: "x", LeaderboardSize: 0),
            TallyEngine.NewPollId()).WaitAsync(Timeout);

        Assert.Equal(RejectionKind.Invalid, refused.Rejection?.Kind);
        Assert.Equal(
            ["leaderboardSize", "passcode", "questions[0].correct", "questions[1].correct", "title"],
            refused.Rejection!.Errors!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(RejectionKind.Invalid, Assert.IsType<Rejection>((await engines.Writer.CreatePollAsync(new CreatePoll("Q?", ["A", "B"], PollKind.Quiz, Correct: [1]))).Rejection).Kind);
    }
}
