using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Xunit;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="ITallyEngine"/> must do with polls (its lifecycle, creating, finding, reading, watching,
/// listing and closing polls), and the plumbing of <see cref="EngineSpecification"/>, which adds votes. Each engine's
/// test class inherits <see cref="EngineSpecification"/> and says how to start the engines under test, on
/// <see cref="Clock"/>: commands go to <see cref="EnginesUnderTest.Writer"/>, reads to <see cref="EnginesUnderTest.Reader"/>
/// (the same engine, or another node of the cluster).
/// </summary>
public abstract class EnginePollsSpecification : IAsyncLifetime
{
    private readonly List<EnginesUnderTest> _started = [];

    protected static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The clock of every engine of the test, at a whole second of today: it moves only when a test moves it (its timers
    /// tick in real time). <see cref="CreateAsync"/> moves it a millisecond after each poll, so that polls are ordered.
    /// </summary>
    protected ManualTimeProvider Clock { get; } = new(new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero));

    /// <summary>A cursor well formed for another kind of engine (so not one this engine gave out).</summary>
    protected abstract string ForeignCursor { get; }

    /// <summary>Starts the engines under test on <see cref="Clock"/> with <paramref name="options"/>; the subclass disposes them.</summary>
    protected abstract Task<EnginesUnderTest> StartEnginesAsync(TallyEngineOptions options);

    /// <summary>An engine of this kind that was never started (with whatever it needs ready); the subclass disposes it.</summary>
    protected abstract Task<ITallyEngine> CreateUnstartedAsync();

    /// <summary>
    /// Stops <paramref name="engines"/> the clean way and starts the same engines again on their log, with
    /// <paramref name="options"/>: from their snapshots and the log's tail when <paramref name="keepSnapshots"/>, else from
    /// the log alone (as after a lost snapshot store). Null when this kind of engine is not restarted by the specification.
    /// </summary>
    protected virtual Task<EnginesUnderTest?> RestartEnginesAsync(EnginesUnderTest engines, TallyEngineOptions options, bool keepSnapshots) =>
        Task.FromResult<EnginesUnderTest?>(null);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Opens every gate a test left closed, so that the subclass can stop its engines.</summary>
    public virtual Task DisposeAsync()
    {
        foreach (var engines in _started)
        {
            engines.Appends.Open();
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task An_engine_not_started_answers_everything_unavailable()
    {
        var engine = await CreateUnstartedAsync().WaitAsync(Timeout);

        Assert.False(engine.IsRunning);
        await AssertAnswersUnavailableAsync(engine, "abcdefghij");
    }

    [Fact]
    public async Task A_stopped_engine_answers_everything_unavailable_even_about_polls_it_knew()
    {
        var engines = await StartAsync();
        Assert.True(engines.Writer.IsRunning);
        Assert.True(engines.Reader.IsRunning);
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, poll, 1, "ada")).Status);

        await engines.Writer.StopAsync(CancellationToken.None).WaitAsync(Timeout);
        await engines.Writer.StopAsync(CancellationToken.None).WaitAsync(Timeout); // stopping twice is fine

        Assert.False(engines.Writer.IsRunning);
        await AssertAnswersUnavailableAsync(engines.Writer, poll);
    }

    [Fact]
    public async Task A_created_poll_has_a_new_id_and_every_field_of_its_definition()
    {
        var engines = await StartAsync();
        var closesAt = Clock.GetUtcNow().AddHours(1);
        var command = new CreatePoll(
            "  Which ones?  ", ["Red", " Green ", "Blue"], PollKind.Multiple, MaxChoices: 2, ClosesAt: closesAt,
            Dedupe: DedupePolicy.Voter, AllowChange: true, Workspace: "acme", VoterIdentity: VoterIdentity.Token,
            Access: PollAccess.Private, Results: ResultsVisibility.AfterVote);
        var createdAt = Clock.GetUtcNow();

        var created = await CreateAsync(engines.Writer, command);
        var plain = await CreateAsync(engines.Writer, new CreatePoll("Yes?", ["Yes", "No"]));

        Assert.True(PollRules.IsPollId(created.Poll.Id));
        Assert.Equal(10, created.Poll.Id.Length);
        Assert.NotEqual(created.Poll.Id, plain.Poll.Id);
        var expected = $"{created.Poll.Id}|Which ones?|Multiple|2|1:Red,2:Green,3:Blue|{createdAt.UtcTicks}|{closesAt.UtcTicks}|Voter|True|acme|Token|Private|AfterVote";
        Assert.Equal(expected, Describe(created.Poll));
        Assert.Equal((1L, PollStatus.Open, (DateTimeOffset?)null, 0L), (created.Seq, created.Status, created.ClosedAt, created.TotalVotes));
        Assert.Equal([0L, 0L, 0L], created.Counts);
        Assert.Equal(
            $"{plain.Poll.Id}|Yes?|Single|1|1:Yes,2:No|{createdAt.AddMilliseconds(1).UtcTicks}||Voter|False|default|Client|Public|Live",
            Describe(plain.Poll));

        Assert.Equal(expected, Describe(Value(await engines.Reader.FindPollAsync(created.Poll.Id, default).AsTask().WaitAsync(Timeout))));
        Assert.Equal(expected, Describe((await ResultsAsync(engines.Reader, created.Poll.Id)).Poll));
        Assert.Equal(expected, Describe(Value(await engines.Reader.WatchAsync(created.Poll.Id, default).AsTask().WaitAsync(Timeout))));
    }

    [Fact]
    public async Task An_invalid_poll_is_refused_with_every_wrong_field_and_nothing_is_made()
    {
        var engines = await StartAsync();

        var refused = await engines.Writer.CreatePollAsync(new CreatePoll(" ", ["Only"], ClosesAt: Clock.GetUtcNow().AddSeconds(-1))).WaitAsync(Timeout);

        Assert.Equal(RejectionKind.Invalid, refused.Rejection?.Kind);
        Assert.Equal(["closesAt", "options", "question"], refused.Rejection!.Errors!.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(Value(await engines.Reader.ListPollsAsync(null, 10, null, default).WaitAsync(Timeout)).Items);
    }

    [Theory]
    [InlineData("nosuchpoll")]
    [InlineData("a.>")] // not a poll id at all (and never a NATS wildcard)
    public async Task A_poll_nobody_created_is_not_found_by_any_query_or_command(string pollId)
    {
        var engines = await StartAsync();
        await CreateAsync(engines.Writer);

        foreach (var engine in new[] { engines.Writer, engines.Reader })
        {
            Assert.Equal(RejectionKind.UnknownPoll, (await engine.FindPollAsync(pollId, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
            Assert.Equal(RejectionKind.UnknownPoll, (await engine.GetResultsAsync(pollId, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
            Assert.Equal(RejectionKind.UnknownPoll, (await engine.WatchAsync(pollId, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
            Assert.Equal(RejectionKind.UnknownPoll, (await engine.FindBallotAsync(pollId, "ada", default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
            Assert.Null(engine.Catalog.FindResults(pollId));
        }

        Assert.Equal(RejectionKind.UnknownPoll, (await engines.Writer.ClosePollAsync(pollId).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownPoll, (await VoteAsync(engines.Writer, pollId, 1, "ada")).Rejection?.Kind);
        var batch = await engines.Writer.CastVotesAsync([new CastVote(pollId, [1], "ada", null)]).WaitAsync(Timeout);
        Assert.Equal(RejectionKind.UnknownPoll, Assert.Single(Value(batch)).Rejection?.Kind); // answered per ballot: it was looked at
    }

    [Fact]
    public async Task Results_hold_every_write_acknowledged_before_on_any_engine()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;

        for (var i = 0; i < 6; i++)
        {
            var vote = await VoteAsync(engines.Writer, poll, 1 + (i % 3), "v" + i);
            var read = await ResultsAsync(engines.Reader, poll); // no waiting: an acknowledged write is committed
            Assert.Equal(vote.Seq, read.Seq);
            Assert.Equal(i + 1, read.TotalVotes);
        }

        Assert.Equal([2L, 2L, 2L], (await ResultsAsync(engines.Reader, poll)).Counts);
    }

    [Fact]
    public async Task Watching_a_poll_puts_it_in_the_catalog_and_keeps_it_current()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;
        await VoteAsync(engines.Writer, poll, 1, "ada");

        Assert.Equal(poll, Value(await engines.Reader.WatchAsync(poll, default).AsTask().WaitAsync(Timeout)).Id);
        Assert.Equal(2, engines.Reader.Catalog.FindResults(poll)?.Seq); // at once: watchers get a snapshot from it
        Assert.Equal(poll, Value(await engines.Reader.WatchAsync(poll, default).AsTask().WaitAsync(Timeout)).Id); // again: the same

        var second = await VoteAsync(engines.Writer, poll, 2, "bob");
        await Eventually.WaitUntilAsync(() => engines.Reader.Catalog.FindResults(poll)?.Seq == second.Seq, Timeout);
        Assert.Equal([1L, 1L, 0L], engines.Reader.Catalog.FindResults(poll)!.Counts);

        var closed = Value(await engines.Writer.ClosePollAsync(poll).WaitAsync(Timeout));
        await Eventually.WaitUntilAsync(() => engines.Reader.Catalog.FindResults(poll)?.Status == PollStatus.Closed, Timeout);
        Assert.Equal(closed.Seq, engines.Reader.Catalog.FindResults(poll)!.Seq);
    }

    [Fact]
    public async Task Polls_are_listed_newest_first_in_pages_and_the_last_page_has_no_cursor()
    {
        var engines = await StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await CreateAsync(engines.Writer)).Poll.Id);
        }

        ids.Reverse();
        var pages = await ListAllAsync(engines.Reader, null, 2);

        Assert.Equal([2, 2, 1], pages.Select(p => p.Items.Count));
        Assert.Equal(ids, pages.SelectMany(p => p.Items).Select(r => r.Poll.Id));
        Assert.Null(pages[^1].NextCursor);
        var whole = Value(await engines.Reader.ListPollsAsync(null, 5, null, default).WaitAsync(Timeout));
        Assert.Equal(ids, whole.Items.Select(r => r.Poll.Id));
        Assert.Null(whole.NextCursor); // exactly full: nothing after it
        Assert.Equal(1, whole.Items[0].Seq);
    }

    [Fact]
    public async Task Listing_by_workspace_pages_through_that_workspace_only()
    {
        var engines = await StartAsync();
        var acme = new List<string>();
        var others = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var workspace = i % 3 == 0 ? "default" : "acme";
            var id = (await CreateAsync(engines.Writer, new CreatePoll("Q" + i, ["A", "B"], Workspace: workspace))).Poll.Id;
            (workspace == "acme" ? acme : others).Add(id);
        }

        acme.Reverse();
        others.Reverse();
        var pages = await ListAllAsync(engines.Reader, "acme", 3);

        Assert.Equal([3, 1], pages.Select(p => p.Items.Count));
        Assert.Equal(acme, pages.SelectMany(p => p.Items).Select(r => r.Poll.Id));
        Assert.Equal(others, (await ListAllAsync(engines.Reader, "default", 2)).SelectMany(p => p.Items).Select(r => r.Poll.Id));
        var none = Value(await engines.Reader.ListPollsAsync("nobody", 10, null, default).WaitAsync(Timeout));
        Assert.Empty(none.Items);
        Assert.Null(none.NextCursor);
    }

    [Fact]
    public async Task A_cursor_this_engine_did_not_give_out_is_invalid()
    {
        var engines = await StartAsync();
        await CreateAsync(engines.Writer);

        foreach (var cursor in new[] { ForeignCursor, "not a cursor", "", "cA", new string('x', 500) })
        {
            Assert.Equal(RejectionKind.Invalid, (await engines.Reader.ListPollsAsync(null, 10, cursor, default).WaitAsync(Timeout)).Rejection?.Kind);
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engines.Reader.ListPollsAsync(null, 0, null, default));
    }

    [Fact]
    public async Task Closing_a_poll_is_idempotent_and_a_closed_poll_takes_no_vote()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;
        await VoteAsync(engines.Writer, poll, 1, "ada");
        Clock.Advance(TimeSpan.FromSeconds(5));

        var first = Value(await engines.Writer.ClosePollAsync(poll).WaitAsync(Timeout));
        Clock.Advance(TimeSpan.FromSeconds(5));
        var second = Value(await engines.Writer.ClosePollAsync(poll).WaitAsync(Timeout));

        Assert.Equal((PollStatus.Closed, 3L, Clock.GetUtcNow().AddSeconds(-5)), (first.Status, first.Seq, first.ClosedAt!.Value));
        Assert.Equal((first.Seq, first.ClosedAt), (second.Seq, second.ClosedAt));
        Assert.Equal(RejectionKind.PollClosed, (await VoteAsync(engines.Writer, poll, 2, "bob")).Rejection?.Kind);
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((PollStatus.Closed, first.Seq, 1L), (read.Status, read.Seq, read.TotalVotes));
    }

    protected async Task<EnginesUnderTest> StartAsync(Action<TallyEngineOptions>? configure = null)
    {
        var options = new TallyEngineOptions();
        configure?.Invoke(options);
        var engines = await StartEnginesAsync(options).WaitAsync(Timeout);
        _started.Add(engines);
        return engines;
    }

    /// <summary>See <see cref="RestartEnginesAsync"/>; null when this kind of engine is not restarted.</summary>
    protected async Task<EnginesUnderTest?> RestartAsync(EnginesUnderTest engines, bool keepSnapshots)
    {
        var restarted = await RestartEnginesAsync(engines, new TallyEngineOptions(), keepSnapshots).WaitAsync(Timeout);
        if (restarted is not null)
        {
            _started.Add(restarted);
        }

        return restarted;
    }

    /// <summary>Creates a poll (three options, one choice, one ballot per voter by default), then moves the clock a millisecond.</summary>
    protected async Task<PollResults> CreateAsync(ITallyEngine engine, CreatePoll? command = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var outcome = await engine.CreatePollAsync(command ?? new CreatePoll("Which?", ["A", "B", "C"])).WaitAsync(Timeout);
        Clock.Advance(TimeSpan.FromMilliseconds(1)); // the next poll is newer (a cluster orders polls of one millisecond by id)
        return Value(outcome);
    }

    protected static async Task<VoteOutcome> VoteAsync(ITallyEngine engine, string poll, int option, string? voter, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return await engine.CastVoteAsync(new CastVote(poll, [option], voter, key)).AsTask().WaitAsync(Timeout);
    }

    protected static async Task<PollResults> ResultsAsync(ITallyEngine engine, string poll)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return Value(await engine.GetResultsAsync(poll, default).AsTask().WaitAsync(Timeout));
    }

    /// <summary>The outcome's value; fails the test with the rejection's words when there is none.</summary>
    protected static T Value<T>(Outcome<T> outcome)
        where T : class
    {
        Assert.True(outcome.Value is not null, $"Expected a value, got {outcome.Rejection?.Kind}: {outcome.Rejection?.Detail}");
        return outcome.Value!;
    }

    private static async Task<List<PollPage>> ListAllAsync(ITallyEngine engine, string? workspace, int limit)
    {
        var pages = new List<PollPage>();
        string? cursor = null;
        do
        {
            var page = Value(await engine.ListPollsAsync(workspace, limit, cursor, default).WaitAsync(Timeout));
            pages.Add(page);
            cursor = page.NextCursor;
        }
        while (cursor is not null && pages.Count < 100);

        return pages;
    }

    private static async Task AssertAnswersUnavailableAsync(ITallyEngine engine, string poll)
    {
        var vote = new CastVote(poll, [1], "ada", null);
        Assert.Equal(RejectionKind.Unavailable, (await engine.FindPollAsync(poll, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Unavailable, (await engine.GetResultsAsync(poll, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Unavailable, (await engine.WatchAsync(poll, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Unavailable, (await engine.ListPollsAsync(null, 10, null, default).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Unavailable, (await engine.FindBallotAsync(poll, "ada", default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Unavailable, (await engine.CreatePollAsync(new CreatePoll("Q?", ["A", "B"])).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Unavailable, (await engine.ClosePollAsync(poll).WaitAsync(Timeout)).Rejection?.Kind);
        var single = await engine.CastVoteAsync(vote).AsTask().WaitAsync(Timeout);
        Assert.Equal((VoteStatus.Rejected, RejectionKind.Unavailable), (single.Status, single.Rejection?.Kind));
        Assert.Equal(RejectionKind.Unavailable, (await engine.CastVotesAsync([vote, vote]).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Unavailable, (await engine.CastVotesAsync([]).WaitAsync(Timeout)).Rejection?.Kind);
    }

    private static string Describe(PollDefinition poll) =>
        $"{poll.Id}|{poll.Question}|{poll.Kind}|{poll.MaxChoices}|{string.Join(",", poll.Options.Select(o => $"{o.Id}:{o.Text}"))}|"
        + $"{poll.CreatedAt.UtcTicks}|{poll.ClosesAt?.UtcTicks}|{poll.Dedupe}|{poll.AllowChange}|{poll.Workspace}|{poll.VoterIdentity}|{poll.Access}|{poll.Results}";
}
