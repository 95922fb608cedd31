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

    [Theory]
    [InlineData("k3x9q2m7pa")]
    [InlineData("a")]
    [InlineData("ABCdef123")]
    public void A_poll_id_is_one_to_64_ascii_letters_and_digits(string id)
    {
        Assert.True(PollRules.IsPollId(id));
        Assert.Null(PollRules.CheckPollId(id));
        Assert.True(PollRules.IsPollId(new string('p', 64)));
    }

    public static TheoryData<string?> NotPollIds => new()
    {
        null,
        "",
        new string('p', 65),
        new string('p', 100_000),
        "no-such-poll",
        "k3x9q2m7pa ",
        "k3x9q2m7p\u00e1",
        "k3x9q2m7pa\n",
        "../etc",
        "\uff41bc", // fullwidth a: a letter, not an ASCII one
    };

    [Theory]
    [MemberData(nameof(NotPollIds))]
    public void Any_other_string_names_no_poll_and_the_answer_repeats_it_clipped(string? id)
    {
        Assert.False(PollRules.IsPollId(id));
        var rejection = PollRules.CheckPollId(id);
        Assert.Equal(RejectionKind.UnknownPoll, rejection?.Kind);
        Assert.True(rejection!.Detail.Length <= "There is no poll .".Length + PollRules.MaxEchoLength + 1, rejection.Detail);
    }

    [Fact]
    public void Clip_keeps_40_characters_and_never_splits_a_surrogate_pair()
    {
        Assert.Equal("short", PollRules.Clip("short"));
        Assert.Equal(new string('x', 40), PollRules.Clip(new string('x', 40)));
        Assert.Equal(new string('x', 40) + "…", PollRules.Clip(new string('x', 41)));
        var emoji = new string('x', 39) + "\U0001F600" + "tail"; // the pair at 39-40
        Assert.Equal(new string('x', 39) + "…", PollRules.Clip(emoji));
    }

    [Fact]
    public void The_unknown_poll_answer_of_the_engine_clips_the_id()
    {
        var detail = Tally.Engine.TallyEngine.UnknownPoll(new string('p', 60_000)).Detail;
        Assert.True(detail.Length < 100, detail);
    }

    public static TheoryData<string, string> RefusedVoterIds => new()
    {
        { " alice", "white space at the start" },
        { "alice ", "white space at the end" },
        { "alice\u00a0", "white space at the end" }, // no-break space
        { "\u3000alice", "white space at the start" }, // ideographic space
        { "ali\u200bce", "format character (U+200B)" }, // zero-width space
        { "ali\u200dce", "format character (U+200D)" }, // zero-width joiner
        { "\u202eecila", "format character (U+202E)" }, // right-to-left override
        { "\ufeffalice", "format character (U+FEFF)" }, // BOM
        { "alice\u00ad", "format character (U+00AD)" }, // soft hyphen
        { "alice\U000E0041", "format character (U+E0041)" }, // tag letter
        { "ali\tce", "control character (U+0009)" },
        { "alice\n", "control character (U+000A)" },
        { "ali\u0000ce", "control character (U+0000)" },
        { "ali\u0085ce", "control character (U+0085)" }, // NEL (C1)
        { "ali\ud800ce", "unpaired surrogate (U+D800)" },
        { "alice\udc00", "unpaired surrogate (U+DC00)" },
        { "ali\ufdd0ce", "noncharacter (U+FDD0)" },
        { "alice\uffff", "noncharacter (U+FFFF)" },
        { "alice\U0010FFFE", "noncharacter (U+10FFFE)" },
    };

    [Theory]
    [MemberData(nameof(RefusedVoterIds), DisableDiscoveryEnumeration = true)] // xunit would replace lone surrogates when it serializes the cases
    public void A_voter_id_with_invisible_or_broken_characters_is_refused_not_rewritten(string voterId, string says)
    {
        var poll = TestEvents.Definition("p1");
        var rejection = PollRules.CheckBallot(poll, new CastVote("p1", [1], voterId, null), out var admitted);

        Assert.Equal(RejectionKind.Invalid, rejection?.Kind);
        Assert.Contains(says, rejection!.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", rejection.Detail, StringComparison.Ordinal); // names the code point, never the id
        Assert.Equal(voterId, admitted.VoterId);
    }

    [Theory]
    [MemberData(nameof(RefusedVoterIds), DisableDiscoveryEnumeration = true)] // xunit would replace lone surrogates when it serializes the cases
    public void An_idempotency_key_follows_the_same_refusals(string key, string says)
    {
        var poll = TestEvents.Definition("p1");
        var rejection = PollRules.CheckBallot(poll, new CastVote("p1", [1], "v", key));
        Assert.Equal(RejectionKind.Invalid, rejection?.Kind);
        Assert.Contains(says, rejection!.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("Alice")]
    [InlineData("Ada Lovelace")] // white space inside is fine
    [InlineData("user:42@example.org")]
    [InlineData("\u00e9mile")]
    [InlineData("\u5f20\u4f1f")]
    [InlineData("\U0001F600")] // a surrogate pair
    [InlineData("\u0928\u093f")] // Devanagari: a combining vowel sign, already NFC
    public void A_voter_id_of_ordinary_text_is_taken_as_it_is(string voterId)
    {
        var poll = TestEvents.Definition("p1");
        var vote = new CastVote("p1", [1], voterId, null);
        Assert.Null(PollRules.CheckBallot(poll, vote, out var admitted));
        Assert.Same(vote, admitted);
    }

    [Fact]
    public void Voter_ids_are_case_sensitive_and_normalised_to_nfc()
    {
        var poll = TestEvents.Definition("p1");
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [1], "e\u0301mile", null), out var decomposed));
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [1], "\u00e9mile", null), out var composed));
        Assert.Equal("\u00e9mile", decomposed.VoterId);
        Assert.Equal(composed.VoterId, decomposed.VoterId);

        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [1], "Alice", null), out var upper));
        Assert.Equal("Alice", upper.VoterId); // not folded: "alice" is another voter
    }

    [Fact]
    public void Idempotency_keys_are_not_normalised()
    {
        var poll = TestEvents.Definition("p1");
        var vote = new CastVote("p1", [1], "v", "e\u0301");
        Assert.Null(PollRules.CheckBallot(poll, vote, out var admitted));
        Assert.Equal("e\u0301", admitted.IdempotencyKey);
    }

    [Fact]
    public void A_voter_id_is_at_most_128_characters_before_and_after_nfc()
    {
        var poll = TestEvents.Definition("p1");
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [1], new string('v', 128), null)));

        // U+0958 (DEVANAGARI LETTER QA) is excluded from composition: NFC writes it as two code points.
        var grows = new string('\u0958', 100);
        var rejection = PollRules.CheckBallot(poll, new CastVote("p1", [1], grows, null));
        Assert.Equal(RejectionKind.Invalid, rejection?.Kind);
        Assert.Contains("NFC", rejection!.Detail, StringComparison.Ordinal);
    }
}
