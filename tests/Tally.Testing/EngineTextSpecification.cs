using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Xunit;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="ITallyEngine"/> must do with text polls (word clouds): count each answer's terms into the poll's top
/// terms, refuse answers the poll cannot take, hold a moderated poll's answers until approved or rejected, take back a failed
/// batch exactly, and rebuild held answers and terms after a restart (from snapshots and the log, or the log alone).
/// </summary>
public abstract class EngineTextSpecification : EngineEventsSpecification
{
    private static CreatePoll Text(bool moderated = false, int? maxLength = null, string? language = null, DedupePolicy dedupe = DedupePolicy.Voter) =>
        new("One word for today?", null, PollKind.Text, Dedupe: dedupe, MaxLength: maxLength, Language: language, Moderation: moderated);

    private static async Task<VoteOutcome> AnswerAsync(ITallyEngine engine, string poll, string? text, string? voter, string? key = null) =>
        await engine.CastVoteAsync(new CastVote(poll, [], voter, key, text)).AsTask().WaitAsync(Timeout);

    private static async Task<PollResults> ModerateAsync(ITallyEngine engine, string poll, long seq, bool approve) =>
        Value(await engine.ModerateAnswerAsync(poll, seq, approve).WaitAsync(Timeout));

    private static async Task<IReadOnlyList<HeldAnswer>> HeldAsync(ITallyEngine engine, string poll, int limit = 100) =>
        Value(await engine.GetHeldAnswersAsync(poll, limit, default).AsTask().WaitAsync(Timeout));

    /// <summary>The word cloud in one line: answers counted / held, then each top term with its count (and error when not 0).</summary>
    private static string Cloud(PollResults results) =>
        $"{results.Text!.Answers}/{results.Text.Held}:" + string.Concat(results.Text.Terms.Select(t => $" {t.Term}={t.Count}" + (t.Error == 0 ? "" : $"±{t.Error}")));

    private static string Describe(IReadOnlyList<HeldAnswer> held) =>
        string.Join(" | ", held.Select(h => $"{h.Seq} {h.Text} [{string.Join(",", h.Terms)}] {h.At.ToUnixTimeMilliseconds()}"));

    [Fact]
    public async Task A_text_polls_answers_count_into_its_top_terms()
    {
        var engines = await StartAsync();
        var created = await CreateAsync(engines.Writer, Text());
        var poll = created.Poll.Id;
        Assert.Equal((PollKind.Text, new TextSettings(TextRules.DefaultMaxLength, "en", false)), (created.Poll.Kind, created.Poll.Text));
        Assert.Empty(created.Poll.Options);
        Assert.Equal("0/0:", Cloud(created));

        var first = await AnswerAsync(engines.Writer, poll, "  Great talks, GREAT people!  ", "ada");
        Assert.Equal((VoteStatus.Counted, $"{poll}-2", 2L), (first.Status, first.VoteId, first.Seq));
        Assert.Equal(VoteStatus.Counted, (await AnswerAsync(engines.Writer, poll, "great food", "bob")).Status);
        Assert.Equal(VoteStatus.Counted, (await AnswerAsync(engines.Writer, poll, "The talks were long", "cara")).Status);

        var read = await ResultsAsync(engines.Reader, poll);
        Assert.Equal((4L, 3L), (read.Seq, read.TotalVotes));
        Assert.Empty(read.Counts);
        Assert.Equal("3/0: great=2 talks=2 food=1 long=1 people=1", Cloud(read)); // "the", "were": English stop words
        Assert.Equal(1024, read.Text!.Capacity); // the summary's counters
        Assert.Equal(new TextSettings(TextRules.DefaultMaxLength, "en", false), Value(await engines.Reader.FindPollAsync(poll, default).AsTask().WaitAsync(Timeout)).Text);
        Assert.Equal(RejectionKind.AlreadyVoted, (await AnswerAsync(engines.Writer, poll, "again", "ada")).Rejection?.Kind); // one answer per voter
        Assert.Empty(await HeldAsync(engines.Reader, poll)); // not moderated: nothing is ever held
    }

    [Fact]
    public async Task The_polls_language_picks_the_stop_words_and_none_keeps_every_word()
    {
        var engines = await StartAsync();
        var french = (await CreateAsync(engines.Writer, Text(language: "fr", dedupe: DedupePolicy.None))).Poll.Id;
        var none = (await CreateAsync(engines.Writer, Text(language: "none", dedupe: DedupePolicy.None))).Poll.Id;

        await AnswerAsync(engines.Writer, french, "Le café et les croissants", null);
        await AnswerAsync(engines.Writer, none, "The café and the croissants", null);

        Assert.Equal("1/0: café=1 croissants=1", Cloud(await ResultsAsync(engines.Reader, french)));
        Assert.Equal("1/0: and=1 café=1 croissants=1 the=1", Cloud(await ResultsAsync(engines.Reader, none)));
    }

    [Fact]
    public async Task Answers_a_text_poll_cannot_take_are_refused_and_change_nothing()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Text(maxLength: 10))).Poll.Id;
        var choice = (await CreateAsync(engines.Writer)).Poll.Id;

        Assert.Equal(RejectionKind.Invalid, (await AnswerAsync(engines.Writer, poll, "eleven char", "ada")).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await AnswerAsync(engines.Writer, poll, "   ", "ada")).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await AnswerAsync(engines.Writer, poll, null, "ada")).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await AnswerAsync(engines.Writer, poll, "bell\u0007", "ada")).Rejection?.Kind); // a control character
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.CastVoteAsync(new CastVote(poll, [1], "ada", null, "words")).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.CastVoteAsync(new CastVote(choice, [1], "ada", null, "words")).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await engines.Writer.CastVoteAsync(new CastVote(poll, [], "ada", null, "words", [.. Enumerable.Range(0, 21).Select(i => "t" + i)])).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal("0/0:", Cloud(await ResultsAsync(engines.Reader, poll)));
        Assert.Equal((1L, 0L), ((await ResultsAsync(engines.Reader, choice)).Seq, (await ResultsAsync(engines.Reader, choice)).TotalVotes));

        // Ten characters once trimmed is the most it takes.
        Assert.Equal(VoteStatus.Counted, (await AnswerAsync(engines.Writer, poll, "  ten chars!  ", "ada")).Status);
        Assert.Equal("1/0: chars=1 ten=1", Cloud(await ResultsAsync(engines.Reader, poll)));
    }

    [Theory]
    [InlineData(0, null, false, null, "maxLength")]
    [InlineData(501, null, false, null, "maxLength")]
    [InlineData(null, "xx", false, null, "language")]
    [InlineData(null, null, true, null, "allowChange")]
    [InlineData(null, null, false, 2, "maxChoices")]
    public async Task A_text_poll_with_wrong_settings_is_refused_naming_the_field(int? maxLength, string? language, bool allowChange, int? maxChoices, string field)
    {
        var engines = await StartAsync();

        var refused = await engines.Writer.CreatePollAsync(Text(maxLength: maxLength, language: language) with { AllowChange = allowChange, MaxChoices = maxChoices }).WaitAsync(Timeout);
        var withOptions = await engines.Writer.CreatePollAsync(Text() with { Options = ["A", "B"] }).WaitAsync(Timeout);
        var settingsOnChoice = await engines.Writer.CreatePollAsync(new CreatePoll("Which?", ["A", "B"], MaxLength: 20)).WaitAsync(Timeout);

        Assert.Equal([field], refused.Rejection!.Errors!.Keys);
        Assert.Equal(["options"], withOptions.Rejection!.Errors!.Keys);
        Assert.Equal(["maxLength"], settingsOnChoice.Rejection!.Errors!.Keys);
        Assert.Empty(Value(await engines.Reader.ListPollsAsync(null, 10, null, default).WaitAsync(Timeout)).Items);
    }

    [Fact]
    public async Task A_moderated_poll_holds_answers_until_approved_and_a_rejected_one_never_counts()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Text(moderated: true))).Poll.Id;
        var answeredAt = Clock.GetUtcNow();
        foreach (var (text, voter) in new[] { ("Great talks", "ada"), ("Spam spam spam", "bob"), ("Great people", "cara") })
        {
            Assert.Equal(VoteStatus.Counted, (await AnswerAsync(engines.Writer, poll, text, voter)).Status); // taken, and held
        }

        Assert.Equal("0/3:", Cloud(await ResultsAsync(engines.Reader, poll)));
        var held = await HeldAsync(engines.Reader, poll);
        Assert.Equal($"2 Great talks [great,talks] {answeredAt.ToUnixTimeMilliseconds()} | 3 Spam spam spam [spam] {answeredAt.ToUnixTimeMilliseconds()} | 4 Great people [great,people] {answeredAt.ToUnixTimeMilliseconds()}", Describe(held));
        Assert.Equal([2L, 3L], (await HeldAsync(engines.Reader, poll, limit: 2)).Select(h => h.Seq));
        Assert.Equal(RejectionKind.AlreadyVoted, (await AnswerAsync(engines.Writer, poll, "again", "ada")).Rejection?.Kind); // a held answer is the voter's one

        var approved = await ModerateAsync(engines.Writer, poll, 2, approve: true);
        Assert.Equal((5L, "1/2: great=1 talks=1"), (approved.Seq, Cloud(approved)));
        var rejected = await ModerateAsync(engines.Writer, poll, 3, approve: false);
        Assert.Equal((6L, "1/1: great=1 talks=1"), (rejected.Seq, Cloud(rejected)));
        Assert.Equal("2/0: great=2 people=1 talks=1", Cloud(await ModerateAsync(engines.Writer, poll, 4, approve: true)));

        Assert.Equal("2/0: great=2 people=1 talks=1", Cloud(await ResultsAsync(engines.Reader, poll)));
        Assert.Empty(await HeldAsync(engines.Reader, poll));
    }

    [Fact]
    public async Task Only_a_held_answer_of_a_moderated_text_poll_is_moderated()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Text(moderated: true))).Poll.Id;
        var open = (await CreateAsync(engines.Writer, Text())).Poll.Id;
        var choice = (await CreateAsync(engines.Writer)).Poll.Id;
        await AnswerAsync(engines.Writer, poll, "held one", "ada");
        await AnswerAsync(engines.Writer, open, "counted one", "ada");
        await ModerateAsync(engines.Writer, poll, 2, approve: false);

        foreach (var (id, seq) in new[] { (poll, 2L), (poll, 3L), (poll, 1L), (poll, 99L), (open, 2L), (choice, 2L) })
        {
            var refused = await engines.Writer.ModerateAnswerAsync(id, seq, approve: true).WaitAsync(Timeout);
            Assert.True(refused.Rejection?.Kind == RejectionKind.Invalid, $"{id}-{seq}: {refused.Rejection?.Kind}");
        }

        Assert.Equal(RejectionKind.UnknownPoll, (await engines.Writer.ModerateAnswerAsync("nosuchpoll", 2, approve: true).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownPoll, (await engines.Reader.GetHeldAnswersAsync("nosuchpoll", 10, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal(RejectionKind.Invalid, (await engines.Reader.GetHeldAnswersAsync(choice, 10, default).AsTask().WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal((3L, "0/0:"), ((await ResultsAsync(engines.Reader, poll)).Seq, Cloud(await ResultsAsync(engines.Reader, poll))));
        Assert.Equal("1/0: counted=1 one=1", Cloud(await ResultsAsync(engines.Reader, open)));
    }

    [Fact]
    public async Task A_batch_takes_text_answers_beside_ballots_and_a_key_replays_the_first_answer()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Text())).Poll.Id;
        var choice = (await CreateAsync(engines.Writer)).Poll.Id;

        var answers = Value(await engines.Writer.CastVotesAsync(
        [
            new CastVote(poll, [], "ada", "k1", "Blue sky"),
            new CastVote(choice, [2], "ada", null),
            new CastVote(poll, [], "bob", null, ""),
            new CastVote(poll, [], "cara", null, "blue sea"),
        ]).WaitAsync(Timeout));

        Assert.Equal([VoteStatus.Counted, VoteStatus.Counted, VoteStatus.Rejected, VoteStatus.Counted], answers.Select(a => a.Status));
        Assert.Equal(RejectionKind.Invalid, answers[2].Rejection?.Kind);
        var replayed = await AnswerAsync(engines.Writer, poll, "Blue sky", "ada", "k1");
        Assert.Equal((answers[0].VoteId, true), (replayed.VoteId, replayed.Replayed));
        Assert.Equal(RejectionKind.IdempotencyKeyReused, (await AnswerAsync(engines.Writer, poll, "Red sky", "ada", "k1")).Rejection?.Kind);
        Assert.Equal("2/0: blue=2 sea=1 sky=1", Cloud(await ResultsAsync(engines.Reader, poll)));
    }

    [Fact]
    public async Task A_failed_append_leaves_the_terms_and_the_held_answers_as_they_were()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Text(dedupe: DedupePolicy.None))).Poll.Id;
        var moderated = (await CreateAsync(engines.Writer, Text(moderated: true, dedupe: DedupePolicy.None))).Poll.Id;
        await AnswerAsync(engines.Writer, poll, "red green", null);
        await AnswerAsync(engines.Writer, moderated, "held green", null);
        var before = Cloud(await ResultsAsync(engines.Reader, poll));

        engines.Appends.FailNext();
        var failed = await engines.Writer.CastVotesAsync([new CastVote(poll, [], null, null, "green blue"), new CastVote(poll, [], null, null, "blue yellow")]).WaitAsync(Timeout);
        Assert.Equal(RejectionKind.Unavailable, failed.Rejection?.Kind); // every ballot unavailable: the batch refused as a whole
        Assert.Equal((2L, before), ((await ResultsAsync(engines.Reader, poll)).Seq, Cloud(await ResultsAsync(engines.Reader, poll))));

        engines.Appends.FailNext();
        Assert.Equal(RejectionKind.Unavailable, (await engines.Writer.ModerateAnswerAsync(moderated, 2, approve: true).WaitAsync(Timeout)).Rejection?.Kind);
        Assert.Equal("0/1:", Cloud(await ResultsAsync(engines.Reader, moderated)));
        Assert.Equal([2L], (await HeldAsync(engines.Reader, moderated)).Select(h => h.Seq));

        // The retries count, once each.
        Assert.All(Value(await engines.Writer.CastVotesAsync([new CastVote(poll, [], null, null, "green blue"), new CastVote(poll, [], null, null, "blue yellow")]).WaitAsync(Timeout)), a => Assert.Equal(VoteStatus.Counted, a.Status));
        Assert.Equal("3/0: blue=2 green=2 red=1 yellow=1", Cloud(await ResultsAsync(engines.Reader, poll)));
        Assert.Equal("1/0: green=1 held=1", Cloud(await ModerateAsync(engines.Writer, moderated, 2, approve: true)));
    }

    [Fact]
    public async Task An_erased_voters_answer_leaves_the_count_it_was_in_and_no_other()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Text(moderated: true))).Poll.Id;
        foreach (var (text, voter) in new[] { ("approved words", "ada"), ("rejected words", "bob"), ("held words", "cara") })
        {
            await AnswerAsync(engines.Writer, poll, text, voter);
        }

        await ModerateAsync(engines.Writer, poll, 2, approve: true);
        await ModerateAsync(engines.Writer, poll, 3, approve: false);
        Assert.Equal("1/1: approved=1 words=1", Cloud(await ResultsAsync(engines.Reader, poll)));

        // The terms an answer added stay in the summary (it cannot tell one answer's share); the answer leaves its count.
        Assert.True(Value(await engines.Writer.EraseVoterAsync(poll, "bob").WaitAsync(Timeout)).Erased); // rejected: it was in no count
        Assert.Equal("1/1: approved=1 words=1", Cloud(await ResultsAsync(engines.Reader, poll)));
        Assert.True(Value(await engines.Writer.EraseVoterAsync(poll, "cara").WaitAsync(Timeout)).Erased); // held: it leaves the held ones
        Assert.Equal("1/0: approved=1 words=1", Cloud(await ResultsAsync(engines.Reader, poll)));
        Assert.Empty(await HeldAsync(engines.Reader, poll));
        Assert.True(Value(await engines.Writer.EraseVoterAsync(poll, "ada").WaitAsync(Timeout)).Erased); // counted: it leaves the answers
        Assert.Equal("0/0: approved=1 words=1", Cloud(await ResultsAsync(engines.Reader, poll)));
    }

    [Fact]
    public async Task Held_answers_and_the_terms_survive_a_restart_from_snapshots_or_from_the_log_alone()
    {
        var engines = await StartAsync();
        var poll = (await CreateAsync(engines.Writer, Text(dedupe: DedupePolicy.None))).Poll.Id;
        var moderated = (await CreateAsync(engines.Writer, Text(moderated: true))).Poll.Id;
        for (var i = 0; i < 30; i++)
        {
            await AnswerAsync(engines.Writer, poll, $"word{i % 7} common term{i % 3}", null);
        }

        foreach (var (text, voter) in new[] { ("first held", "ada"), ("approved here", "bob"), ("rejected here", "cara"), ("second held", "dan") })
        {
            await AnswerAsync(engines.Writer, moderated, text, voter);
            Clock.Advance(TimeSpan.FromSeconds(1));
        }

        await ModerateAsync(engines.Writer, moderated, 3, approve: true);
        await ModerateAsync(engines.Writer, moderated, 4, approve: false);
        var expected = (Cloud(await ResultsAsync(engines.Reader, poll)), Cloud(await ResultsAsync(engines.Reader, moderated)), Describe(await HeldAsync(engines.Reader, moderated)));
        Assert.StartsWith("30/0: common=30 term0=10 term1=10 term2=10 word0=5", expected.Item1, StringComparison.Ordinal);
        Assert.Equal("1/2: approved=1", expected.Item2);

        foreach (var keepSnapshots in new[] { false, true }) // the log alone, then the snapshot that engine wrote (and the tail)
        {
            if (await RestartAsync(engines, keepSnapshots) is not { } restarted)
            {
                return; // this kind of engine is not restarted by the specification
            }

            engines = restarted;
            Assert.Equal(expected, (Cloud(await ResultsAsync(engines.Reader, poll)), Cloud(await ResultsAsync(engines.Reader, moderated)), Describe(await HeldAsync(engines.Reader, moderated))));
            Assert.Equal(RejectionKind.AlreadyVoted, (await AnswerAsync(engines.Writer, moderated, "again", "cara")).Rejection?.Kind);
            Assert.Equal(RejectionKind.Invalid, (await engines.Writer.ModerateAnswerAsync(moderated, 3, approve: true).WaitAsync(Timeout)).Rejection?.Kind);
        }

        // After both restarts the rejected answer is still in no count, and the held answers are still the poll's to decide.
        Assert.True(Value(await engines.Writer.EraseVoterAsync(moderated, "cara").WaitAsync(Timeout)).Erased);
        Assert.Equal(expected.Item2, Cloud(await ResultsAsync(engines.Reader, moderated)));
        Assert.Equal("2/1: approved=1 first=1 held=1", Cloud(await ModerateAsync(engines.Writer, moderated, 2, approve: true)));
        Assert.Equal([5L], (await HeldAsync(engines.Reader, moderated)).Select(h => h.Seq));
    }
}
