using Tally.Engine;
using Tally.Polls;
using Xunit;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="ITallyEngine"/> must do, embedded or cluster, so that the host gets the same answers from
/// either: the poll part (<see cref="EnginePollsSpecification"/>), events (<see cref="EngineEventsSpecification"/>), text polls
/// (<see cref="EngineTextSpecification"/>) and here votes, batches, ballots, <c>closesAt</c> and
/// overload. Each engine's test class inherits this.
/// </summary>
public abstract class EngineSpecification : EngineQuestionsSpecification
{
    [Fact]
    public async Task A_vote_is_counted_with_its_vote_id_and_seq()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;

        var first = await VoteAsync(engines.Writer, poll, 2, "ada");
        var second = await VoteAsync(engines.Writer, poll, 3, "bob");

        Assert.Equal((VoteStatus.Counted, $"{poll}-2", 2L, false), (first.Status, first.VoteId, first.Seq, first.Replayed));
        Assert.Null(first.Rejection);
        Assert.Equal((VoteStatus.Counted, $"{poll}-3", 3L), (second.Status, second.VoteId, second.Seq));
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((3L, 2L), (read.Seq, read.TotalVotes));
        Assert.Equal([0L, 1L, 1L], read.Counts);
    }

    [Fact]
    public async Task A_polls_events_read_back_from_the_log_through_a_seq_and_no_other_polls()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B", "C"], AllowChange: true))).Poll.Id;
        var other = (await CreateAsync(engines.Writer)).Poll.Id;
        await VoteAsync(engines.Writer, poll, 1, "ada");
        await VoteAsync(engines.Writer, other, 1, "ada");
        await VoteAsync(engines.Writer, poll, 2, "bob");
        await VoteAsync(engines.Writer, poll, 3, "ada"); // a change
        var closed = (await engines.Writer.ClosePollAsync(poll)).Value!;

        foreach (var engine in new[] { engines.Writer, engines.Reader }) // the partition's owner, and (cluster) maybe another node
        {
            var all = await ReadAsync(engine, poll, closed.Seq);
            Assert.Equal(["PollCreated 1", "VoteCast 2", "VoteCast 3", "VoteChanged 4", "PollClosed 5"], all.Select(e => $"{e.GetType().Name} {e.Seq}"));
            Assert.All(all, e => Assert.Equal(poll, e.PollId));
            var changed = Assert.IsType<Events.VoteChanged>(all[3]);
            Assert.Equal("ada", changed.VoterId);
            Assert.Equal([3], changed.OptionIds);
            Assert.Equal([1], changed.PreviousOptionIds);

            Assert.Equal([1L, 2, 3], (await ReadAsync(engine, poll, 3)).Select(e => e.Seq));
            Assert.Empty(await ReadAsync(engine, "nosuchpoll", 5));
        }

        // Reading did not take the log from its writer: it still takes votes.
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, other, 2, "bob")).Status);
    }

    private static async Task<List<Events.PollEvent>> ReadAsync(ITallyEngine engine, string poll, long throughSeq)
    {
        var events = new List<Events.PollEvent>();
        using var timeout = new CancellationTokenSource(Timeout);
        await foreach (var e in engine.ReadPollEventsAsync(poll, throughSeq, timeout.Token))
        {
            events.Add(e);
        }

        return events;
    }

    [Fact]
    public async Task A_voter_votes_once_unless_the_poll_allows_a_change()
    {
        var engines = await StartAsync();
        var once = (await CreateAsync(engines.Writer)).Poll.Id;
        var changeable = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B", "C"], AllowChange: true))).Poll.Id;

        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, once, 1, "ada")).Status);
        var again = await VoteAsync(engines.Writer, once, 2, "ada");
        Assert.Equal((VoteStatus.Rejected, RejectionKind.AlreadyVoted), (again.Status, again.Rejection?.Kind));
        Assert.Equal([1L, 0L, 0L], (await ResultsAsync(engines.Reader, once)).Counts);

        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, changeable, 1, "ada")).Status);
        var changed = await VoteAsync(engines.Writer, changeable, 3, "ada");
        Assert.Equal((VoteStatus.Changed, 3L), (changed.Status, changed.Seq));
        var read = await ResultsAsync(engines.Reader, changeable);
        Assert.Equal((1L, 3L), (read.TotalVotes, read.Seq));
        Assert.Equal([0L, 0L, 1L], read.Counts);
    }

    [Fact]
    public async Task Ballots_the_poll_cannot_take_are_refused_and_change_nothing()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;
        var multiple = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B", "C"], PollKind.Multiple, MaxChoices: 2))).Poll.Id;

        Assert.Equal(RejectionKind.UnknownOption, (await VoteAsync(engines.Writer, poll, 4, "ada")).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownOption, (await VoteAsync(engines.Writer, poll, 0, "ada")).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await VoteAsync(engines.Writer, poll, 1, null)).Rejection?.Kind); // one ballot per voter needs the voter
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.CastVoteAsync(new CastVote(poll, [], "ada", null)).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.CastVoteAsync(new CastVote(multiple, [1, 2, 3], "ada", null)).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.CastVoteAsync(new CastVote(multiple, [2, 2], "ada", null)).AsTask().WaitAsync(Timeout)).Rejection?.Kind);

        var both = await engines.Writer.CastVoteAsync(new CastVote(multiple, [3, 1], "ada", null)).AsTask().WaitAsync(Timeout);
        Assert.Equal(VoteStatus.Counted, both.Status);
        Assert.Equal(1L, (await ResultsAsync(engines.Reader, poll)).Seq);
        var read = await ResultsAsync(engines.Reader, multiple);
        Assert.Equal((2L, 1L), (read.Seq, read.TotalVotes));
        Assert.Equal([1L, 0L, 1L], read.Counts);
    }

    [Fact]
    public async Task An_idempotency_key_gets_the_first_answer_again_and_is_refused_for_another_ballot()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;

        var first = await VoteAsync(engines.Writer, poll, 1, "ada", "key-1");
        var retried = await VoteAsync(engines.Writer, poll, 1, "ada", "key-1");
        var otherVoter = await VoteAsync(engines.Writer, poll, 1, "bob", "key-1");
        var otherOption = await VoteAsync(engines.Writer, poll, 2, "ada", "key-1");

        Assert.Equal((VoteStatus.Counted, false), (first.Status, first.Replayed));
        Assert.Equal((first.Status, first.VoteId, first.Seq, true), (retried.Status, retried.VoteId, retried.Seq, retried.Replayed));
        Assert.Equal(RejectionKind.IdempotencyKeyReused, otherVoter.Rejection?.Kind);
        Assert.Equal(RejectionKind.IdempotencyKeyReused, otherOption.Rejection?.Kind);
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, poll, 1, "bob", "key-2")).Status);
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((3L, 2L), (read.Seq, read.TotalVotes));
    }

    [Fact]
    public async Task A_batch_answers_each_ballot_in_order_across_polls_and_partitions()
    {
        var engines = await StartAsync();
        var polls = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            polls.Add((await CreateAsync(engines.Writer)).Poll.Id); // six polls: more than one partition, in every engine
        }

        var closed = (await CreateAsync(engines.Writer)).Poll.Id;
        await engines.Writer.ClosePollAsync(closed).WaitAsync(Timeout);
        var votes = new List<CastVote>();
        foreach (var poll in polls)
        {
            votes.Add(new CastVote(poll, [1], "ada", "k-" + poll));
            votes.Add(new CastVote(poll, [2], "bob", null));
        }

        votes.AddRange(
        [
            new CastVote(polls[0], [3], "ada", null),         // ada voted above, in this batch
            new CastVote(polls[1], [1], "ada", "k-" + polls[1]), // the retry of an earlier item: its first answer
            new CastVote(polls[2], [9], "eve", null),
            new CastVote("nosuchpoll", [1], "eve", null),
            new CastVote(closed, [1], "eve", null),
            new CastVote(polls[3], [3], "carl", null),
        ]);

        var answers = Value(await engines.Writer.CastVotesAsync(votes).WaitAsync(Timeout));

        Assert.Equal(votes.Count, answers.Length);
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal((VoteStatus.Counted, polls[i / 2] + "-" + (2 + (i % 2))), (answers[i].Status, answers[i].VoteId));
        }

        Assert.Equal(
            [RejectionKind.AlreadyVoted, null, RejectionKind.UnknownOption, RejectionKind.UnknownPoll, RejectionKind.PollClosed, null],
            answers[12..].Select(a => a.Rejection?.Kind));
        Assert.Equal((answers[2].VoteId, answers[2].Seq, true), (answers[13].VoteId, answers[13].Seq, answers[13].Replayed));
        Assert.Equal((VoteStatus.Counted, polls[3] + "-4"), (answers[17].Status, answers[17].VoteId));
        for (var p = 0; p < polls.Count; p++)
        {
            Assert.Equal(p == 3 ? new[] { 1L, 1L, 1L } : new[] { 1L, 1L, 0L }, (await ResultsAsync(engines.Reader, polls[p])).Counts);
        }

        Assert.Empty(Value(await engines.Writer.CastVotesAsync([]).WaitAsync(Timeout)));
    }

    [Fact]
    public async Task The_largest_batch_the_server_takes_is_answered_whole_even_on_one_poll_with_the_longest_ids()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer)).Poll.Id;
        var votes = Enumerable.Range(0, 10_000)
            .Select(i => new CastVote(poll, [1 + (i % 3)], Long("voter-", i, PollRules.MaxVoterIdLength), Long("key-", i, PollRules.MaxIdempotencyKeyLength)))
            .ToArray();

        var answers = Value(await engines.Writer.CastVotesAsync(votes).WaitAsync(Timeout));

        Assert.All(answers, a => Assert.Equal(VoteStatus.Counted, a.Status));
        Assert.Equal(Enumerable.Range(2, 10_000).Select(i => (long)i), answers.Select(a => a.Seq));
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((10_001L, 10_000L), (read.Seq, read.TotalVotes));

        static string Long(string prefix, int i, int length) => (prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).PadRight(length, 'x');
    }

    [Fact]
    public async Task A_ballot_is_found_once_the_vote_that_made_it_is_acknowledged()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B", "C"], PollKind.Multiple, MaxChoices: 2, AllowChange: true))).Poll.Id;

        var none = Value(await engines.Reader.FindBallotAsync(poll, "ada", default).AsTask().WaitAsync(Timeout));
        Assert.Equal((false, (int[]?)null), (none.Voted, none.OptionIds));

        await engines.Writer.CastVoteAsync(new CastVote(poll, [3, 1], "ada", null)).AsTask().WaitAsync(Timeout);
        var cast = Value(await engines.Reader.FindBallotAsync(poll, "ada", default).AsTask().WaitAsync(Timeout));
        Assert.True(cast.Voted);
        Assert.Equal(new[] { 3, 1 }, cast.OptionIds!);

        await VoteAsync(engines.Writer, poll, 2, "ada");
        var changed = Value(await engines.Reader.FindBallotAsync(poll, "ada", default).AsTask().WaitAsync(Timeout));
        Assert.Equal(new[] { 2 }, changed.OptionIds!);
        Assert.False(Value(await engines.Reader.FindBallotAsync(poll, "bob", default).AsTask().WaitAsync(Timeout)).Voted);
    }

    [Fact]
    public async Task A_poll_closes_by_itself_once_closes_at_passes()
    {
        var engines = await StartAsync(o => o.ExpiryCheckInterval = TimeSpan.FromMilliseconds(10));
        var closesAt = Clock.GetUtcNow().AddMinutes(1);
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], ClosesAt: closesAt))).Poll.Id;
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, poll, 1, "ada")).Status);

        Clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.WaitUntilAsync(async () => (await ResultsAsync(engines.Reader, poll)).Status == PollStatus.Closed, Timeout);

        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((closesAt, 3L, 1L), (read.ClosedAt!.Value, read.Seq, read.TotalVotes));
        Assert.Equal(RejectionKind.PollClosed, (await VoteAsync(engines.Writer, poll, 1, "bob")).Rejection?.Kind);
    }

    [Fact]
    public async Task A_draft_opens_by_hand_pauses_and_resumes_and_takes_votes_only_while_open()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], Draft: true))).Poll.Id;
        Assert.Equal(PollStatus.Draft, (await ResultsAsync(engines.Reader, poll)).Status);
        Assert.Equal(RejectionKind.PollNotOpen, (await VoteAsync(engines.Writer, poll, 1, "ada")).Rejection?.Kind);
        Assert.Equal(RejectionKind.InvalidTransition, (await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Pause)).Rejection?.Kind);

        var opened = Value(await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Open).WaitAsync(Timeout));
        Assert.Equal((PollStatus.Open, 2L), (opened.Status, opened.Seq));
        Assert.Equal(3, (await VoteAsync(engines.Writer, poll, 1, "ada")).Seq);

        var paused = Value(await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Pause).WaitAsync(Timeout));
        Assert.Equal((PollStatus.Paused, 4L), (paused.Status, paused.Seq));
        Assert.Equal(4, Value(await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Pause)).Seq); // already paused: nothing new
        Assert.Equal(RejectionKind.PollNotOpen, (await VoteAsync(engines.Writer, poll, 2, "bob")).Rejection?.Kind);
        Assert.Equal(RejectionKind.InvalidTransition, (await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Open)).Rejection?.Kind);

        Assert.Equal(PollStatus.Open, Value(await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Resume)).Status);
        Assert.Equal(6, (await VoteAsync(engines.Writer, poll, 2, "bob")).Seq);
        Assert.Equal(PollStatus.Paused, Value(await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Pause)).Status);
        var closed = Value(await engines.Writer.ClosePollAsync(poll).WaitAsync(Timeout)); // a paused poll closes
        Assert.Equal((PollStatus.Closed, 8L, 2L), (closed.Status, closed.Seq, closed.TotalVotes));
        Assert.Equal(RejectionKind.InvalidTransition, (await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Resume)).Rejection?.Kind);

        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((PollStatus.Closed, 8L), (read.Status, read.Seq));
    }

    [Fact]
    public async Task A_scheduled_poll_opens_by_itself_at_opens_at()
    {
        var engines = await StartAsync(o => o.ExpiryCheckInterval = TimeSpan.FromMilliseconds(10));
        var opensAt = Clock.GetUtcNow().AddMinutes(1);
        var swept = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], OpensAt: opensAt))).Poll;
        Assert.True(swept.StartsAsDraft);
        Assert.Equal(opensAt, swept.OpensAt);
        Assert.Equal(RejectionKind.PollNotOpen, (await VoteAsync(engines.Writer, swept.Id, 1, "ada")).Rejection?.Kind);

        Clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.WaitUntilAsync(async () => (await ResultsAsync(engines.Reader, swept.Id)).Status == PollStatus.Open, Timeout);

        var vote = await VoteAsync(engines.Writer, swept.Id, 1, "ada");
        Assert.Equal((VoteStatus.Counted, 3L), (vote.Status, vote.Seq));
    }

    [Fact]
    public async Task A_vote_after_opens_at_counts_even_before_the_sweep_opened_the_poll()
    {
        var engines = await StartAsync(o => o.ExpiryCheckInterval = TimeSpan.FromHours(1));
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], OpensAt: Clock.GetUtcNow().AddMinutes(1)))).Poll.Id;

        Clock.Advance(TimeSpan.FromMinutes(2));

        var vote = await VoteAsync(engines.Writer, poll, 2, "ada");
        Assert.Equal((VoteStatus.Counted, 3L), (vote.Status, vote.Seq)); // seq 2 is the opening
        Assert.Equal(PollStatus.Open, (await ResultsAsync(engines.Reader, poll)).Status);
    }

    [Fact]
    public async Task Erasing_a_voter_takes_their_ballot_out_of_the_counts_and_forgets_them()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B", "C"], AllowChange: true))).Poll.Id;
        await VoteAsync(engines.Writer, poll, 1, "ada");
        await VoteAsync(engines.Writer, poll, 2, "bob");
        await VoteAsync(engines.Writer, poll, 3, "ada"); // ada's ballot is now option 3

        var erased = Value(await engines.Writer.EraseVoterAsync(poll, "ada").WaitAsync(Timeout));

        Assert.Equal(new VoterErasure(true, 5, $"{poll}-2"), erased);
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((5L, 1L), (read.Seq, read.TotalVotes));
        Assert.Equal([0L, 1, 0], read.Counts);
        Assert.False(Value(await engines.Reader.FindBallotAsync(poll, "ada", default).AsTask().WaitAsync(Timeout)).Voted);
        Assert.Equal(new VoterErasure(false, 5, null), Value(await engines.Writer.EraseVoterAsync(poll, "ada").WaitAsync(Timeout)));
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, poll, 1, "ada")).Status); // a new ballot, as anyone's

        var none = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], Dedupe: DedupePolicy.None))).Poll.Id;
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.EraseVoterAsync(none, "ada")).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownPoll, (await engines.Writer.EraseVoterAsync("nosuchpoll", "ada")).Rejection?.Kind);
    }

    [Fact]
    public async Task A_poll_that_allows_it_reopens_after_closing_and_others_do_not()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], AllowReopen: true))).Poll.Id;
        await VoteAsync(engines.Writer, poll, 1, "ada");
        Assert.Equal(PollStatus.Closed, Value(await engines.Writer.ClosePollAsync(poll).WaitAsync(Timeout)).Status);

        var reopened = Value(await engines.Writer.ChangePollStatusAsync(poll, PollTransition.Reopen).WaitAsync(Timeout));
        Assert.Equal((PollStatus.Open, 4L, (DateTimeOffset?)null), (reopened.Status, reopened.Seq, reopened.ClosedAt));
        Assert.Equal(5, (await VoteAsync(engines.Writer, poll, 2, "bob")).Seq);
        Assert.Equal(PollStatus.Closed, Value(await engines.Writer.ClosePollAsync(poll).WaitAsync(Timeout)).Status);
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((PollStatus.Closed, 6L, 2L), (read.Status, read.Seq, read.TotalVotes));

        var plain = (await CreateAsync(engines.Writer)).Poll.Id;
        await engines.Writer.ClosePollAsync(plain).WaitAsync(Timeout);
        Assert.Equal(RejectionKind.InvalidTransition, (await engines.Writer.ChangePollStatusAsync(plain, PollTransition.Reopen)).Rejection?.Kind);
        var full = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], MaxBallots: 1, AllowReopen: true))).Poll.Id;
        await VoteAsync(engines.Writer, full, 1, "ada"); // closes it: its one ballot
        var refused = (await engines.Writer.ChangePollStatusAsync(full, PollTransition.Reopen)).Rejection;
        Assert.Equal(RejectionKind.InvalidTransition, refused?.Kind);
        Assert.Contains("maxBallots", refused!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_ballot_that_reaches_max_ballots_closes_the_poll()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], MaxBallots: 2))).Poll.Id;

        await VoteAsync(engines.Writer, poll, 1, "ada");
        Assert.Equal(VoteStatus.Counted, (await VoteAsync(engines.Writer, poll, 2, "bob")).Status);

        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((PollStatus.Closed, 4L, 2L), (read.Status, read.Seq, read.TotalVotes));
        Assert.Equal(RejectionKind.PollClosed, (await VoteAsync(engines.Writer, poll, 1, "cy")).Rejection?.Kind);
    }

    [Fact]
    public async Task A_vote_after_closes_at_is_refused_even_before_the_poll_is_swept()
    {
        var engines = await StartAsync(o => o.ExpiryCheckInterval = TimeSpan.FromHours(1));
        var closesAt = Clock.GetUtcNow().AddMinutes(1);
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], ClosesAt: closesAt))).Poll.Id;

        Clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(RejectionKind.PollClosed, (await VoteAsync(engines.Writer, poll, 1, "ada")).Rejection?.Kind);
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((PollStatus.Closed, closesAt, 0L), (read.Status, read.ClosedAt!.Value, read.TotalVotes));
    }

    [Fact]
    public async Task A_full_partition_refuses_a_vote_and_a_batch_overloaded_while_reads_go_on()
    {
        var engines = await StartAsync(o => { o.QueueCapacity = 3; o.MaxBatch = 1; });
        var poll = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B", "C"], Dedupe: DedupePolicy.None))).Poll.Id;

        // The first vote is taken by the partition's loop and waits at the closed log, still holding its room
        // (the capacity counts votes queued or being appended); two more fill the queue.
        engines.Appends.Close();
        var taken = new List<Task<VoteOutcome>> { engines.Writer.CastVoteAsync(new CastVote(poll, [1], null, null)).AsTask() };
        await Eventually.WaitUntilAsync(() => engines.Appends.Waiting == 1, Timeout);
        taken.Add(engines.Writer.CastVoteAsync(new CastVote(poll, [1], null, null)).AsTask());
        taken.Add(engines.Writer.CastVoteAsync(new CastVote(poll, [1], null, null)).AsTask());
        await Eventually.WaitUntilAsync(() => engines.QueuedVotes() == 3, Timeout);

        var refused = await VoteAsync(engines.Writer, poll, 2, null);
        var refusedBatch = await engines.Writer.CastVotesAsync([new CastVote(poll, [2], null, null), new CastVote(poll, [3], null, null)]).WaitAsync(Timeout);

        Assert.Equal((VoteStatus.Rejected, RejectionKind.Overloaded), (refused.Status, refused.Rejection?.Kind));
        Assert.Null(refusedBatch.Value); // nothing of it could be taken: refused as a whole
        Assert.Equal(RejectionKind.Overloaded, refusedBatch.Rejection?.Kind);
        Assert.Equal(1L, (await ResultsAsync(engines.Reader, poll)).Seq);

        engines.Appends.Open();
        Assert.All(await Task.WhenAll(taken).WaitAsync(Timeout), o => Assert.Equal(VoteStatus.Counted, o.Status));
        Assert.Equal([3L, 0L, 0L], (await ResultsAsync(engines.Reader, poll)).Counts);
    }

    [Fact]
    public async Task A_batch_share_its_partition_cannot_take_is_refused_overloaded_while_the_other_shares_count()
    {
        // A share of four votes is more than a partition's queue of three ever holds: refused every time.
        var engines = await StartAsync(o => o.QueueCapacity = 3);
        var crowded = (await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], Dedupe: DedupePolicy.None))).Poll.Id;
        var others = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            others.Add((await CreateAsync(engines.Writer, new CreatePoll("Which?", ["A", "B"], Dedupe: DedupePolicy.None))).Poll.Id);
        }

        var four = Enumerable.Range(0, 4).Select(_ => new CastVote(crowded, [1], null, null)).ToArray();
        var whole = await engines.Writer.CastVotesAsync(four).WaitAsync(Timeout);
        Assert.Equal(RejectionKind.Overloaded, whole.Rejection?.Kind);
        Assert.Equal(RejectionKind.Overloaded, (await engines.Writer.CastVotesAsync([.. four, new CastVote(crowded, [1], null, null)]).WaitAsync(Timeout)).Rejection?.Kind);

        // A poll of another partition: its ballot counts, the crowded share's are each refused.
        string? counted = null;
        foreach (var other in others)
        {
            var outcome = await engines.Writer.CastVotesAsync([four[0], four[1], new CastVote(other, [2], null, null), four[2], four[3]]).WaitAsync(Timeout);
            if (outcome.Rejection is { Kind: RejectionKind.Overloaded })
            {
                continue; // this one shares the crowded poll's partition: a share of five
            }

            var answers = Value(outcome);
            Assert.Equal([VoteStatus.Rejected, VoteStatus.Rejected, VoteStatus.Counted, VoteStatus.Rejected, VoteStatus.Rejected], answers.Select(a => a.Status));
            Assert.All(answers.Where(a => a.Status == VoteStatus.Rejected), a => Assert.Equal(RejectionKind.Overloaded, a.Rejection?.Kind));
            counted = other;
            break;
        }

        Assert.NotNull(counted);
        Assert.Equal([0L, 1L], (await ResultsAsync(engines.Reader, counted)).Counts);
        Assert.Equal(0L, (await ResultsAsync(engines.Reader, crowded)).TotalVotes);

        // A share the partition can take counts.
        Assert.All(Value(await engines.Writer.CastVotesAsync(four[..3]).WaitAsync(Timeout)), a => Assert.Equal(VoteStatus.Counted, a.Status));
        Assert.Equal(3L, (await ResultsAsync(engines.Reader, crowded)).TotalVotes);
    }
}
