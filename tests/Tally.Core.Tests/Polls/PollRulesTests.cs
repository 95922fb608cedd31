using Tally.Polls;
using Tally.Testing;

namespace Tally.Core.Tests.Polls;

public sealed class PollRulesTests
{
    private static readonly DateTimeOffset Now = TestEvents.Epoch;

    private static PollDefinition? Define(CreatePoll command, out Rejection? rejection) => PollRules.TryDefine(command, "p1", Now, out rejection);

    private static CreatePoll Valid(int options = 3) => new("Which?", Enumerable.Range(1, options).Select(i => (string?)("O" + i)).ToArray());

    [Fact]
    public void A_valid_poll_gets_dense_one_based_option_ids_and_trimmed_texts()
    {
        var poll = Define(new CreatePoll("  Which?  ", [" Red ", "Blue"]), out var rejection);

        Assert.Null(rejection);
        Assert.NotNull(poll);
        Assert.Equal("Which?", poll.Question);
        Assert.Equal([new PollOption(1, "Red"), new PollOption(2, "Blue")], poll.Options);
        Assert.Equal(PollKind.Single, poll.Kind);
        Assert.Equal(1, poll.MaxChoices);
        Assert.Equal(DedupePolicy.Voter, poll.Dedupe);
        Assert.False(poll.AllowChange);
        Assert.Equal(Now, poll.CreatedAt);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(50)]
    public void Two_to_fifty_options_are_allowed(int count) => Assert.NotNull(Define(Valid(count), out _));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(51)]
    public void Fewer_than_two_or_more_than_fifty_options_are_refused(int count)
    {
        Assert.Null(Define(Valid(count), out var rejection));
        Assert.Equal(RejectionKind.Invalid, rejection!.Kind);
        Assert.Contains("options", rejection.Errors!.Keys);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_blank_question_is_refused(string? question)
    {
        Assert.Null(Define(new CreatePoll(question, ["a", "b"]), out var rejection));
        Assert.Contains("question", rejection!.Errors!.Keys);
    }

    [Fact]
    public void Question_and_option_lengths_are_bounded()
    {
        Assert.NotNull(Define(new CreatePoll(new string('q', 500), [new string('o', 200), "b"]), out _));
        Assert.Null(Define(new CreatePoll(new string('q', 501), ["a", "b"]), out var r1));
        Assert.Contains("question", r1!.Errors!.Keys);
        Assert.Null(Define(new CreatePoll("q", [new string('o', 201), "b"]), out var r2));
        Assert.Contains("options[0]", r2!.Errors!.Keys);
    }

    [Fact]
    public void Blank_and_duplicate_option_texts_are_refused_with_their_index()
    {
        Assert.Null(Define(new CreatePoll("q", ["a", " ", "a ", null]), out var rejection));
        Assert.Equal(["options[1]", "options[2]", "options[3]"], rejection!.Errors!.Keys.Order());
    }

    [Fact]
    public void A_single_choice_poll_takes_max_choices_one_or_nothing()
    {
        Assert.NotNull(Define(Valid() with { MaxChoices = 1 }, out _));
        Assert.Null(Define(Valid() with { MaxChoices = 2 }, out var rejection));
        Assert.Contains("maxChoices", rejection!.Errors!.Keys);
    }

    [Fact]
    public void A_multiple_choice_poll_defaults_max_choices_to_the_option_count_and_bounds_it()
    {
        Assert.Equal(3, Define(Valid() with { Kind = PollKind.Multiple }, out _)!.MaxChoices);
        Assert.Equal(2, Define(Valid() with { Kind = PollKind.Multiple, MaxChoices = 2 }, out _)!.MaxChoices);
        Assert.Null(Define(Valid() with { Kind = PollKind.Multiple, MaxChoices = 0 }, out _));
        Assert.Null(Define(Valid() with { Kind = PollKind.Multiple, MaxChoices = 4 }, out _));
    }

    [Fact]
    public void Closes_at_must_be_in_the_future()
    {
        Assert.NotNull(Define(Valid() with { ClosesAt = Now.AddSeconds(1) }, out _));
        Assert.Null(Define(Valid() with { ClosesAt = Now }, out var rejection));
        Assert.Contains("closesAt", rejection!.Errors!.Keys);
    }

    [Fact]
    public void Every_wrong_field_is_reported_at_once()
    {
        Assert.Null(Define(new CreatePoll("", ["a"], PollKind.Single, 3, Now.AddDays(-1)), out var rejection));
        Assert.Equal(["closesAt", "maxChoices", "options", "question"], rejection!.Errors!.Keys.Order());
    }

    public static TheoryData<int[], string?, RejectionKind> BadBallots => new()
    {
        { [], "v", RejectionKind.Invalid },
        { [1, 2], "v", RejectionKind.Invalid },
        { [4], "v", RejectionKind.UnknownOption },
        { [0], "v", RejectionKind.UnknownOption },
        { [-1], "v", RejectionKind.UnknownOption },
        { [1], null, RejectionKind.Invalid },
        { [1], " ", RejectionKind.Invalid },
        { [1], new string('v', 129), RejectionKind.Invalid },
    };

    [Theory]
    [MemberData(nameof(BadBallots))]
    public void A_ballot_that_breaks_the_polls_rules_is_refused(int[] options, string? voter, RejectionKind kind)
    {
        var poll = TestEvents.Definition("p1", options: 3);
        Assert.Equal(kind, PollRules.CheckBallot(poll, new CastVote("p1", options, voter, null))?.Kind);
    }

    [Fact]
    public void A_multiple_choice_ballot_takes_distinct_options_up_to_max_choices()
    {
        var poll = TestEvents.Definition("p1", options: 4, kind: PollKind.Multiple) with { MaxChoices = 2 };
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [1, 4], "v", null)));
        Assert.Equal(RejectionKind.Invalid, PollRules.CheckBallot(poll, new CastVote("p1", [1, 2, 3], "v", null))?.Kind);
        Assert.Equal(RejectionKind.Invalid, PollRules.CheckBallot(poll, new CastVote("p1", [2, 2], "v", null))?.Kind);
    }

    [Fact]
    public void Without_voter_dedupe_the_voter_id_is_optional()
    {
        var poll = TestEvents.Definition("p1", dedupe: DedupePolicy.None);
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [1], null, null)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(129)]
    public void An_idempotency_key_is_one_to_128_characters(int length)
    {
        var poll = TestEvents.Definition("p1");
        Assert.Equal(RejectionKind.Invalid, PollRules.CheckBallot(poll, new CastVote("p1", [1], "v", new string('k', length)))?.Kind);
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [1], "v", new string('k', 128))));
    }
}
