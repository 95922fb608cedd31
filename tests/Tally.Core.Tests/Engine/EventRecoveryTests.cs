using Tally.Engine;
using Tally.Events;
using Tally.Polls;
using Tally.Projections;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>An event's state through the embedded engine's recovery (snapshot + tail, the log alone) and a failed append, and the stored form of its events.</summary>
public sealed class EventRecoveryTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);
    private readonly InMemoryEventLog _store = new();
    private readonly InMemorySnapshotStore _snapshots = new();
    private readonly ManualTimeProvider _clock = new(At);
    private readonly List<TallyEngine> _engines = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task A_restart_rebuilds_the_live_question_and_the_exact_leaderboard_from_snapshot_and_tail_or_the_log_alone()
    {
        var engine = await StartAsync(new ControlledEventLog(_store), o => o.Partitions = 3);
        var ev = await CreateEventAsync(engine);
        var random = new Random(7);
        for (var i = 0; i < 30; i++)
        {
            Value(await engine.JoinEventAsync(ev, "v" + i, "Player " + i));
        }

        Value(await engine.ControlEventAsync(ev, EventAction.Start, 0));
        for (var q = 1; q <= 3; q++)
        {
            Value(await engine.ControlEventAsync(ev, EventAction.Show, q));
            for (var i = 0; i < 30; i++)
            {
                _clock.Advance(TimeSpan.FromMilliseconds(random.Next(400)));
                await engine.CastVoteAsync(new CastVote(ev + "q" + q, [1 + random.Next(3)], "v" + i, null));
            }

            if (q == 2)
            {
                await engine.SnapshotAsync(default);
            }
        }

        Value(await engine.ControlEventAsync(ev, EventAction.Reveal, 0));
        var expected = Describe(engine, ev);
        Assert.Contains("round 3", expected);

        var fromSnapshot = await StartAsync(new ControlledEventLog(_store), o => o.Partitions = 2);
        var fromLog = await StartAsync(new ControlledEventLog(_store), snapshots: new InMemorySnapshotStore());

        Assert.Equal(expected, Describe(fromSnapshot, ev));
        Assert.Equal(expected, Describe(fromLog, ev));
        Assert.Equal(Value(await engine.GetLeadersAsync(ev, 30, default)), Value(await fromSnapshot.GetLeadersAsync(ev, 30, default)));
        Assert.Equal(RejectionKind.PollClosed, (await fromSnapshot.CastVoteAsync(new CastVote(ev + "q3", [1], "v0", null))).Rejection?.Kind); // revealed: locked
    }

    [Fact]
    public async Task A_failed_append_takes_back_both_the_answer_and_its_score()
    {
        var log = new ControlledEventLog(_store);
        var engine = await StartAsync(log);
        var ev = await CreateEventAsync(engine);
        Value(await engine.JoinEventAsync(ev, "ada", "Ada"));
        Value(await engine.ControlEventAsync(ev, EventAction.Start, 0));
        Value(await engine.ControlEventAsync(ev, EventAction.Show, 1));

        log.FailNext();
        var refused = await engine.CastVoteAsync(new CastVote(ev + "q1", [2], "ada", null));
        Assert.Equal(RejectionKind.Unavailable, refused.Rejection?.Kind);
        Assert.Equal(0L, Value(await engine.FindStandingAsync(ev, "ada", default)).Score);

        var counted = await engine.CastVoteAsync(new CastVote(ev + "q1", [2], "ada", null)); // the retry counts, once
        Assert.Equal(VoteStatus.Counted, counted.Status);
        var ada = Value(await engine.FindStandingAsync(ev, "ada", default));
        Assert.Equal((1000L, 1, 1), (ada.Score, ada.Correct, ada.Answered));
    }

    [Fact]
    public void The_event_facts_and_a_definition_with_quiz_and_event_settings_round_trip()
    {
        foreach (PollEvent e in new PollEvent[]
        {
            new QuestionShown("e", 2, At, 3, 2),
            new ResultsRevealed("e", 3, At, 3),
            new ParticipantJoined("e", 4, At, "ada", "Ada Lovelace"),
            new ScoreAwarded("e", 5, At, "ada", 3, 2, 17, true, 988, 100, 2),
        })
        {
            Assert.Equal(e, EventCodec.Decode(EventCodec.Encode(e)));
        }

        var quiz = TestEvents.Definition("eq1") with { Kind = PollKind.Quiz, Quiz = new QuizSettings([2, 3], 750, TimeSpan.FromSeconds(15)), EventId = "e" };
        var decoded = ((PollCreated)EventCodec.Decode(EventCodec.Encode(new PollCreated(quiz)))).Definition;
        Assert.Equal(("e", 750, TimeSpan.FromSeconds(15)), (decoded.EventId, decoded.Quiz!.Points, decoded.Quiz.TimeLimit));
        Assert.Equal([2, 3], decoded.Quiz.Correct);

        var (salt, hash) = Passcodes.Hash("open sesame");
        var ev = TestEvents.Definition("e") with { Kind = PollKind.Event, Event = new EventSettings("ABCDEFG", salt, hash, 50, 5) };
        var settings = ((PollCreated)EventCodec.Decode(EventCodec.Encode(new PollCreated(ev)))).Definition.Event!;
        Assert.Equal(("ABCDEFG", 50, 5), (settings.JoinCode, settings.StreakBonus, settings.LeaderboardSize));
        Assert.True(Passcodes.Verify(settings, "open sesame"));
        Assert.False(Passcodes.Verify(settings, "open sesame "));
        Assert.False(Passcodes.Verify(settings, null));
    }

    private async Task<string> CreateEventAsync(TallyEngine engine)
    {
        var id = TallyEngine.NewPollId();
        var questions = Enumerable.Range(1, 3).Select(i => new CreatePoll("Q" + i, ["A", "B", "C"], PollKind.Quiz, Correct: [2], TimeLimitSeconds: 30)).ToArray();
        Value(await engine.CreateEventAsync(new CreateEvent("Quiz night", questions, "HJKMNPQ", StreakBonus: 100), id).WaitAsync(Timeout));
        return id;
    }

    private static string Describe(TallyEngine engine, string ev)
    {
        var results = engine.Catalog.FindResults(ev)!;
        var view = results.Event!;
        var questions = string.Join(" ", Enumerable.Range(1, 3).Select(q => engine.Catalog.FindResults(ev + "q" + q)!).Select(r => $"{r.Status}:{string.Join(",", r.Counts)}"));
        return $"seq {results.Seq} {results.Status} current {view.Current} revealed {view.Revealed} round {view.Round} participants {view.Participants} "
            + $"top {string.Join(",", view.Leaders.Select(e => $"{e.VoterId}={e.Score}/{e.Streak}"))} | {questions}";
    }

    private async Task<TallyEngine> StartAsync(IEventLog log, Action<TallyEngineOptions>? configure = null, ISnapshotStore? snapshots = null)
    {
        var options = new TallyEngineOptions();
        configure?.Invoke(options);
        var engine = new TallyEngine(log, snapshots ?? _snapshots, options, _clock);
        await engine.StartAsync(default).WaitAsync(Timeout);
        _engines.Add(engine);
        return engine;
    }

    private static T Value<T>(Outcome<T> outcome)
        where T : class => outcome.Value ?? throw new InvalidOperationException(outcome.Rejection!.Detail);
}
