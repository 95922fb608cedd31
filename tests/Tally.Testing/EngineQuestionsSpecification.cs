using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Xunit;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="ITallyEngine"/> must do with Q&amp;A polls: rank questions by upvotes (the oldest first among equals),
/// take one upvote per voter per question, refuse what a Q&amp;A poll cannot take, hold a moderated poll's questions until
/// approved, mark questions answered, erase a voter's questions and upvotes, take back a failed batch exactly, and rebuild the
/// board after a restart (from snapshots and the log, or the log alone) as verify recomputes it.
/// </summary>
public abstract class EngineQuestionsSpecification : EngineTextSpecification
{
    private static CreatePoll Qa(bool moderated = false, int? maxLength = null, int? perVoter = null) =>
        new("Questions for the speaker?", null, PollKind.Questions, MaxLength: maxLength, Moderation: moderated, MaxQuestionsPerVoter: perVoter);

    private static async Task<VoteOutcome> AskAsync(ITallyEngine engine, string poll, string? text, string? voter, string? key = null) =>
        await engine.CastVoteAsync(new CastVote(poll, [], voter, key, text)).AsTask().WaitAsync(Timeout);

    private static async Task<VoteOutcome> UpvoteAsync(ITallyEngine engine, string poll, long question, string? voter, string? key = null) =>
        await engine.CastVoteAsync(new CastVote(poll, [], voter, key, Upvote: question)).AsTask().WaitAsync(Timeout);

    private static async Task<PollResults> AnsweredAsync(ITallyEngine engine, string poll, long question) =>
        Value(await engine.MarkAnsweredAsync(poll, question).WaitAsync(Timeout));

    /// <summary>The board in one line: shown / held, then each ranked question as seq=upvotes (* once answered).</summary>
    private static string Board(PollResults results) =>
        $"{results.Questions!.Asked}/{results.Questions.Held}:" + string.Concat(results.Questions.Items.Select(q => $" {q.Seq}={q.Votes}" + (q.Answered ? "*" : "")));

    [Fact]
    public async Task Questions_rank_by_upvotes_then_oldest_first_with_one_upvote_per_voter()
    {
        var engines = await StartAsync();
        var created = await CreateAsync(engines.Writer, Qa());
        var poll = created.Poll.Id;
        Assert.Equal((PollKind.Questions, new QuestionSettings(QuestionRules.DefaultMaxLength, false, QuestionRules.DefaultMaxQuestionsPerVoter)), (created.Poll.Kind, created.Poll.Questions));
        Assert.Empty(created.Poll.Options);
        Assert.Equal("0/0:", Board(created));

        var askedAt = Clock.GetUtcNow();
        var first = await AskAsync(engines.Writer, poll, "  Why tabs?  ", "ada");
        Assert.Equal((VoteStatus.Counted, $"{poll}-2", 2L), (first.Status, first.VoteId, first.Seq));
        await AskAsync(engines.Writer, poll, "Why spaces?", "bob");
        await AskAsync(engines.Writer, poll, "When is lunch?", "cara");
        Assert.Equal("3/0: 2=0 3=0 4=0", Board(await ResultsAsync(engines.Reader, poll))); // no upvotes: the oldest first

        var up = await UpvoteAsync(engines.Writer, poll, 4, "ada");
        Assert.Equal((VoteStatus.Counted, $"{poll}-5", 5L), (up.Status, up.VoteId, up.Seq));
        await UpvoteAsync(engines.Writer, poll, 4, "bob");
        await UpvoteAsync(engines.Writer, poll, 3, "cara");
        Assert.Equal(VoteStatus.Counted, (await UpvoteAsync(engines.Writer, poll, 4, "cara")).Status); // the asker may upvote their own question
        var again = await UpvoteAsync(engines.Writer, poll, 4, "ada");
        Assert.Equal(RejectionKind.AlreadyVoted, again.Rejection?.Kind);
        Assert.Contains($"{poll}-5", again.Rejection!.Detail, StringComparison.Ordinal); // names the first upvote

        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((8L, 7L), (read.Seq, read.TotalVotes)); // 3 questions and 4 upvotes
        Assert.Equal("3/0: 4=3 3=1 2=0", Board(read));
        Assert.Equal(("Why tabs?", askedAt), (read.Questions!.Items[2].Text, read.Questions.Items[2].At));

        Assert.Equal("3/0: 4=3* 3=1 2=0", Board(await AnsweredAsync(engines.Writer, poll, 4)));
        var twice = await AnsweredAsync(engines.Writer, poll, 4); // answered already: the same results, no event
        Assert.Equal((9L, "3/0: 4=3* 3=1 2=0"), (twice.Seq, Board(twice)));
        Assert.Equal(VoteStatus.Counted, (await UpvoteAsync(engines.Writer, poll, 4, "dan")).Status); // an answered question still takes upvotes
        Assert.Equal("3/0: 4=4* 3=1 2=0", Board(await ResultsAsync(engines.Reader, poll)));
        Assert.True(Value(await engines.Reader.FindBallotAsync(poll, "dan", default).AsTask().WaitAsync(Timeout)).Voted); // "afterVote" results: dan took part
    }

    [Fact]
    public async Task What_a_qa_poll_cannot_take_is_refused_and_changes_nothing()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Qa(maxLength: 10, perVoter: 2))).Poll.Id;
        var choice = (await CreateAsync(engines.Writer)).Poll.Id;
        await AskAsync(engines.Writer, poll, "first?", "ada");

        foreach (var (vote, kind) in new (CastVote, RejectionKind)[]
        {
            (new CastVote(poll, [], "bob", null, "eleven char"), RejectionKind.Invalid),
            (new CastVote(poll, [], "bob", null, "   "), RejectionKind.Invalid),
            (new CastVote(poll, [], "bob", null, "bell\u0007"), RejectionKind.Invalid),
            (new CastVote(poll, [], "bob", null), RejectionKind.Invalid), // neither text nor upvote
            (new CastVote(poll, [], "bob", null, "both?", Upvote: 2), RejectionKind.Invalid),
            (new CastVote(poll, [1], "bob", null, "options?"), RejectionKind.Invalid),
            (new CastVote(poll, [], null, null, "who?"), RejectionKind.Invalid), // no voter: nothing to dedupe upvotes by
            (new CastVote(poll, [], "bob", null, Upvote: 99), RejectionKind.Invalid), // no such question
            (new CastVote(poll, [], "bob", null, Upvote: 1), RejectionKind.Invalid), // seq 1 is the poll's creation
            (new CastVote(choice, [1], "bob", null, Upvote: 2), RejectionKind.Invalid), // upvote on another kind
        })
        {
            var refused = await engines.Writer.CastVoteAsync(vote).AsTask().WaitAsync(Timeout);
            Assert.True(refused.Rejection?.Kind == kind, $"{vote}: {refused.Rejection?.Kind} {refused.Rejection?.Detail}");
        }

        Assert.Equal(VoteStatus.Counted, (await AskAsync(engines.Writer, poll, "second?", "ada")).Status);
        var third = await AskAsync(engines.Writer, poll, "third?", "ada");
        Assert.Equal(RejectionKind.QuestionLimit, third.Rejection?.Kind); // maxQuestionsPerVoter 2
        Assert.Equal(VoteStatus.Counted, (await UpvoteAsync(engines.Writer, poll, 2, "ada")).Status); // upvotes are not questions
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((4L, 3L, "2/0: 2=1 3=0"), (read.Seq, read.TotalVotes, Board(read)));
        Assert.Equal((1L, 0L), ((await ResultsAsync(engines.Reader, choice)).Seq, (await ResultsAsync(engines.Reader, choice)).TotalVotes));

        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.MarkAnsweredAsync(poll, 99).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.MarkAnsweredAsync(choice, 2).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownPoll, (await engines.Writer.MarkAnsweredAsync("nosuchpoll", 2).WaitAsync(Timeout)).Rejection?.Kind);
    }

    [Theory]
    [InlineData(0, null, "maxLength")]
    [InlineData(1001, null, "maxLength")]
    [InlineData(null, 0, "maxQuestionsPerVoter")]
    [InlineData(null, 101, "maxQuestionsPerVoter")]
    public async Task A_qa_poll_with_wrong_settings_is_refused_naming_the_field(int? maxLength, int? perVoter, string field)
    {
        var engines = await StartAsync();

        var refused = await engines.Writer.CreatePollAsync(Qa(maxLength: maxLength, perVoter: perVoter)).WaitAsync(Timeout);
        Assert.Equal([field], refused.Rejection!.Errors!.Keys);
        foreach (var (command, wrong) in new (CreatePoll, string)[]
        {
            (Qa() with { Options = ["A", "B"] }, "options"),
            (Qa() with { MaxChoices = 2 }, "maxChoices"),
            (Qa() with { AllowChange = true }, "allowChange"),
            (Qa() with { Dedupe = DedupePolicy.None }, "dedupe"),
            (Qa() with { Language = "en" }, "language"),
            (new CreatePoll("Which?", ["A", "B"], MaxQuestionsPerVoter: 3), "maxQuestionsPerVoter"),
        })
        {
            Assert.Equal([wrong], (await engines.Writer.CreatePollAsync(command).WaitAsync(Timeout)).Rejection!.Errors!.Keys);
        }

        Assert.Empty(Value(await engines.Reader.ListPollsAsync(null, 10, null, default).WaitAsync(Timeout)).Items);
    }

    [Fact]
    public async Task A_moderated_poll_shows_and_takes_upvotes_for_approved_questions_only()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Qa(moderated: true))).Poll.Id;
        foreach (var (text, voter) in new[] { ("Fair question?", "ada"), ("Spam!", "bob"), ("Later one?", "cara") })
        {
            Assert.Equal(VoteStatus.Counted, (await AskAsync(engines.Writer, poll, text, voter)).Status); // taken, and held
        }

        Assert.Equal("0/3:", Board(await ResultsAsync(engines.Reader, poll)));
        var held = Value(await engines.Reader.GetHeldAnswersAsync(poll, 10, default).AsTask().WaitAsync(Timeout));
        Assert.Equal(["2 Fair question?", "3 Spam!", "4 Later one?"], held.Select(h => $"{h.Seq} {h.Text}"));
        var early = await UpvoteAsync(engines.Writer, poll, 2, "bob");
        Assert.Equal(RejectionKind.Invalid, early.Rejection?.Kind);
        Assert.Contains("moderation", early.Rejection!.Detail, StringComparison.Ordinal);
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.MarkAnsweredAsync(poll, 2).WaitAsync(Timeout)).Rejection?.Kind);

        Assert.Equal("1/2: 2=0", Board(Value(await engines.Writer.ModerateAnswerAsync(poll, 2, approve: true).WaitAsync(Timeout))));
        Assert.Equal("1/1: 2=0", Board(Value(await engines.Writer.ModerateAnswerAsync(poll, 3, approve: false).WaitAsync(Timeout))));
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.ModerateAnswerAsync(poll, 3, approve: true).WaitAsync(Timeout)).Rejection?.Kind);
        var rejected = await UpvoteAsync(engines.Writer, poll, 3, "ada");
        Assert.Equal(RejectionKind.Invalid, rejected.Rejection?.Kind);
        Assert.Contains("rejected", rejected.Rejection!.Detail, StringComparison.Ordinal);
        Assert.Equal(VoteStatus.Counted, (await UpvoteAsync(engines.Writer, poll, 2, "bob")).Status);
        Assert.Equal("1/1: 2=1", Board(await ResultsAsync(engines.Reader, poll)));
        Assert.Equal([4L], Value(await engines.Reader.GetHeldAnswersAsync(poll, 10, default).AsTask().WaitAsync(Timeout)).Select(h => h.Seq));
    }

    [Fact]
    public async Task A_batch_takes_questions_and_upvotes_and_a_key_replays_the_first_answer()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Qa())).Poll.Id;
        var answers = Value(await engines.Writer.CastVotesAsync(
        [
            new CastVote(poll, [], "ada", "k1", "Batch question?"),
            new CastVote(poll, [], "bob", "k2", Upvote: 2),
            new CastVote(poll, [], "bob", null, Upvote: 2),
            new CastVote(poll, [], "cara", null, ""),
        ]).WaitAsync(Timeout));

        Assert.Equal([VoteStatus.Counted, VoteStatus.Counted, VoteStatus.Rejected, VoteStatus.Rejected], answers.Select(a => a.Status));
        Assert.Equal([RejectionKind.AlreadyVoted, RejectionKind.Invalid], answers[2..].Select(a => a.Rejection!.Kind));
        var replayed = await UpvoteAsync(engines.Writer, poll, 2, "bob", "k2");
        Assert.Equal((answers[1].VoteId, true), (replayed.VoteId, replayed.Replayed));
        Assert.Equal((answers[0].VoteId, true), ((await AskAsync(engines.Writer, poll, "Batch question?", "ada", "k1")).VoteId, true));
        Assert.Equal(RejectionKind.IdempotencyKeyReused, (await AskAsync(engines.Writer, poll, "Another?", "ada", "k1")).Rejection?.Kind);
        Assert.Equal(RejectionKind.IdempotencyKeyReused, (await UpvoteAsync(engines.Writer, poll, 3, "bob", "k2")).Rejection?.Kind);
        Assert.Equal(RejectionKind.IdempotencyKeyReused, (await AskAsync(engines.Writer, poll, "Batch question?", "bob", "k2")).Rejection?.Kind);
        Assert.Equal("1/0: 2=1", Board(await ResultsAsync(engines.Reader, poll)));
    }

    [Fact]
    public async Task A_failed_append_leaves_the_board_as_it_was()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Qa(moderated: true))).Poll.Id;
        await AskAsync(engines.Writer, poll, "Shown one?", "ada");
        await AskAsync(engines.Writer, poll, "Held one?", "bob");
        await engines.Writer.ModerateAnswerAsync(poll, 2, approve: true).WaitAsync(Timeout);
        await UpvoteAsync(engines.Writer, poll, 2, "bob");
        var before = await ResultsAsync(engines.Reader, poll);
        Assert.Equal("1/1: 2=1", Board(before));

        engines.Appends.FailNext();
        var failed = await engines.Writer.CastVotesAsync(
        [
            new CastVote(poll, [], "cara", null, "New one?"),
            new CastVote(poll, [], "cara", null, Upvote: 2),
            new CastVote(poll, [], "ada", null, Upvote: 2),
        ]).WaitAsync(Timeout);
        Assert.Equal(RejectionKind.Unavailable, failed.Rejection?.Kind);
        foreach (var command in new Func<Task<Outcome<PollResults>>>[]
        {
            () => engines.Writer.ModerateAnswerAsync(poll, 3, approve: true),
            () => engines.Writer.MarkAnsweredAsync(poll, 2),
        })
        {
            engines.Appends.FailNext();
            Assert.Equal(RejectionKind.Unavailable, (await command().WaitAsync(Timeout)).Rejection?.Kind);
        }

        engines.Appends.FailNext();
        Assert.Null((await engines.Writer.EraseVoterAsync(poll, "bob").WaitAsync(Timeout)).Value);
        var after = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((before.Seq, before.TotalVotes, Board(before)), (after.Seq, after.TotalVotes, Board(after)));

        // The retries count, once each: cara's upvote and ada's are new, bob's upvote still stands.
        Assert.All(Value(await engines.Writer.CastVotesAsync(
        [
            new CastVote(poll, [], "cara", null, "New one?"),
            new CastVote(poll, [], "cara", null, Upvote: 2),
            new CastVote(poll, [], "ada", null, Upvote: 2),
        ]).WaitAsync(Timeout)), a => Assert.Equal(VoteStatus.Counted, a.Status));
        Assert.Equal(RejectionKind.AlreadyVoted, (await UpvoteAsync(engines.Writer, poll, 2, "bob")).Rejection?.Kind);
        Assert.Equal("1/2: 2=3", Board(await ResultsAsync(engines.Reader, poll)));
        await AnsweredAsync(engines.Writer, poll, 2);
        Assert.Equal("2/1: 2=3* 3=0", Board(Value(await engines.Writer.ModerateAnswerAsync(poll, 3, approve: true).WaitAsync(Timeout))));
    }

    [Fact]
    public async Task An_erased_voter_takes_their_questions_and_upvotes_off_the_board()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Qa())).Poll.Id;
        await AskAsync(engines.Writer, poll, "Ada's?", "ada", "ka"); // 2
        await AskAsync(engines.Writer, poll, "Bob's?", "bob"); // 3
        await UpvoteAsync(engines.Writer, poll, 3, "ada"); // 4
        await UpvoteAsync(engines.Writer, poll, 2, "bob"); // 5
        await UpvoteAsync(engines.Writer, poll, 2, "ada"); // 6: her own
        await UpvoteAsync(engines.Writer, poll, 3, "cara"); // 7
        Assert.Equal("2/0: 2=2 3=2", Board(await ResultsAsync(engines.Reader, poll))); // equal: the older first

        var erased = Value(await engines.Writer.EraseVoterAsync(poll, "ada").WaitAsync(Timeout));
        Assert.Equal((true, 8L, $"{poll}-2"), (erased.Erased, erased.Seq, erased.VoteId));
        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((3L, "1/0: 3=1"), (read.TotalVotes, Board(read))); // her question (with bob's upvote of it) and her upvotes are gone; bob's upvote was his
        Assert.False(Value(await engines.Writer.EraseVoterAsync(poll, "ada").WaitAsync(Timeout)).Erased);
        Assert.Equal(RejectionKind.Invalid, (await UpvoteAsync(engines.Writer, poll, 2, "cara")).Rejection?.Kind); // an erased question takes no upvotes
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.MarkAnsweredAsync(poll, 2).WaitAsync(Timeout)).Rejection?.Kind);

        // The poll forgot her: she asks and upvotes again like anyone, and her old key is free.
        Assert.Equal(VoteStatus.Counted, (await UpvoteAsync(engines.Writer, poll, 3, "ada")).Status);
        var asked = await AskAsync(engines.Writer, poll, "Ada again?", "ada", "ka");
        Assert.Equal((VoteStatus.Counted, false), (asked.Status, asked.Replayed));
        Assert.Equal("2/0: 3=2 10=0", Board(await ResultsAsync(engines.Reader, poll)));
    }

    [Fact]
    public async Task The_board_survives_a_restart_from_snapshots_or_the_log_alone_and_verifies()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Qa(perVoter: 3))).Poll.Id;
        var moderated = (await CreateAsync(engines.Writer, Qa(moderated: true))).Poll.Id;
        for (var i = 0; i < 12; i++)
        {
            await AskAsync(engines.Writer, poll, $"Question {i}?", $"asker{i % 4}");
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        for (var voter = 0; voter < 6; voter++)
        {
            for (var q = 2; q < 14; q += voter + 1)
            {
                await UpvoteAsync(engines.Writer, poll, q, $"voter{voter}", $"key{voter}-{q}");
            }
        }

        await AnsweredAsync(engines.Writer, poll, 2);
        await engines.Writer.EraseVoterAsync(poll, "asker1").WaitAsync(Timeout);
        foreach (var (text, voter) in new[] { ("Held?", "ada"), ("Approved?", "bob"), ("Rejected?", "cara") })
        {
            await AskAsync(engines.Writer, moderated, text, voter);
        }

        await engines.Writer.ModerateAnswerAsync(moderated, 3, approve: true).WaitAsync(Timeout);
        await engines.Writer.ModerateAnswerAsync(moderated, 4, approve: false).WaitAsync(Timeout);
        await UpvoteAsync(engines.Writer, moderated, 3, "ada");
        var expected = (Board(await ResultsAsync(engines.Reader, poll)), Board(await ResultsAsync(engines.Reader, moderated)), (await ResultsAsync(engines.Reader, poll)).TotalVotes);
        Assert.Equal("1/1: 3=1", expected.Item2);
        Assert.True((await TallyVerifier.VerifyAsync(engines.Reader, default).WaitAsync(Timeout)).Clean);

        foreach (var keepSnapshots in new[] { false, true }) // the log alone, then the snapshot that engine wrote (and the tail)
        {
            if (await RestartAsync(engines, keepSnapshots) is not { } restarted)
            {
                return; // this kind of engine is not restarted by the specification
            }

            engines = restarted;
            Assert.Equal(expected, (Board(await ResultsAsync(engines.Reader, poll)), Board(await ResultsAsync(engines.Reader, moderated)), (await ResultsAsync(engines.Reader, poll)).TotalVotes));
            Assert.Equal([2L], Value(await engines.Reader.GetHeldAnswersAsync(moderated, 10, default).AsTask().WaitAsync(Timeout)).Select(h => h.Seq));
            Assert.Equal(RejectionKind.AlreadyVoted, (await UpvoteAsync(engines.Writer, poll, 2, "voter0")).Rejection?.Kind);
            Assert.True((await UpvoteAsync(engines.Writer, poll, 2, "voter0", "key0-2")).Replayed);
            Assert.Equal(RejectionKind.QuestionLimit, (await AskAsync(engines.Writer, poll, "One more?", "asker0")).Rejection?.Kind);
            Assert.Equal(RejectionKind.Invalid, (await UpvoteAsync(engines.Writer, moderated, 4, "bob")).Rejection?.Kind);
            Assert.True((await TallyVerifier.VerifyAsync(engines.Reader, default).WaitAsync(Timeout)).Clean);
        }

        // After both restarts the erased asker is still forgotten (they ask again) and the held question is still to decide.
        Assert.Equal(VoteStatus.Counted, (await AskAsync(engines.Writer, poll, "Back?", "asker1")).Status);
        Assert.Equal("2/0: 3=1 2=0", Board(Value(await engines.Writer.ModerateAnswerAsync(moderated, 2, approve: true).WaitAsync(Timeout))));
    }
}
