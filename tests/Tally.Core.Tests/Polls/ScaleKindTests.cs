using System.Text;
using Tally.Engine;
using Tally.Events;
using Tally.Polls;
using Tally.Projections;
using Tally.Testing;

namespace Tally.Core.Tests.Polls;

/// <summary>The scale kinds, <c>rating</c> and <c>nps</c>: their definitions, ballots, results and stored form.</summary>
public sealed class ScaleKindTests
{
    private static readonly DateTimeOffset Now = TestEvents.Epoch;

    private static PollDefinition? Define(CreatePoll command, out Rejection? rejection) => PollRules.TryDefine(command, "p1", Now, out rejection);

    private static PollDefinition Rating(int? min = null, int? max = null, IReadOnlyList<string?>? labels = null) =>
        Define(new CreatePoll("How was it?", labels, PollKind.Rating, ScaleMin: min, ScaleMax: max), out var rejection)
        ?? throw new InvalidOperationException(rejection!.Detail);

    private static PollDefinition Nps() =>
        Define(new CreatePoll("Would you recommend us?", null, PollKind.Nps), out var rejection) ?? throw new InvalidOperationException(rejection!.Detail);

    private static string[] ErrorFields(CreatePoll command)
    {
        Assert.Null(Define(command, out var rejection));
        Assert.Equal(RejectionKind.Invalid, rejection!.Kind);
        return [.. rejection.Errors!.Keys.Order()];
    }

    [Fact]
    public void A_rating_poll_is_one_to_five_by_default_each_value_an_option_named_by_its_number()
    {
        var poll = Rating();

        Assert.Equal(PollKind.Rating, poll.Kind);
        Assert.Equal(1, poll.MaxChoices);
        Assert.Equal((1, 5), (poll.ScaleMin, poll.ScaleMax));
        Assert.Equal(["1", "2", "3", "4", "5"], poll.Options.Select(o => o.Text));
        Assert.Equal([1, 2, 3, 4, 5], poll.Options.Select(o => poll.ValueOf(o.Id)));
    }

    [Fact]
    public void A_rating_scale_may_start_below_zero_and_may_label_its_values()
    {
        var poll = Rating(-2, 2, ["Awful", "Bad", "Fine", "Good", "Great"]);

        Assert.Equal((-2, 2), (poll.ScaleMin, poll.ScaleMax));
        Assert.Equal("Awful", poll.Options[0].Text);
        Assert.Equal(-2, poll.ValueOf(1));
        Assert.Equal(2, poll.ValueOf(5));
        Assert.Equal((0, 4), (Rating(0).ScaleMin, Rating(0).ScaleMax)); // only a min: five values from it
        Assert.Equal((1, 10), (Rating(max: 10).ScaleMin, Rating(max: 10).ScaleMax));
        Assert.Equal(101, Rating(0, 100).Options.Count); // a percentage slider
    }

    [Theory]
    [InlineData(5, 5)] // one value
    [InlineData(5, 1)] // max below min
    [InlineData(-101, 0)]
    [InlineData(0, 101)]
    [InlineData(-100, 100)] // 201 values
    public void A_rating_scale_out_of_bounds_is_refused_under_scale(int min, int max) =>
        Assert.Equal(["scale"], ErrorFields(new CreatePoll("q", null, PollKind.Rating, ScaleMin: min, ScaleMax: max)));

    [Fact]
    public void Labels_must_match_the_scale_and_a_scale_ballot_is_one_value()
    {
        Assert.Equal(["options"], ErrorFields(new CreatePoll("q", ["a", "b"], PollKind.Rating)));
        Assert.Equal(["options[1]"], ErrorFields(new CreatePoll("q", ["a", "a", "c", "d", "e"], PollKind.Rating)));
        Assert.Equal(["maxChoices"], ErrorFields(new CreatePoll("q", null, PollKind.Rating, MaxChoices: 2)));
        Assert.NotNull(Define(new CreatePoll("q", null, PollKind.Rating, MaxChoices: 1), out _));
    }

    [Fact]
    public void An_nps_poll_is_always_zero_to_ten_without_options()
    {
        var poll = Nps();

        Assert.Equal((0, 10), (poll.ScaleMin, poll.ScaleMax));
        Assert.Equal(11, poll.Options.Count);
        Assert.NotNull(Define(new CreatePoll("q", null, PollKind.Nps, ScaleMin: 0, ScaleMax: 10), out _));
        Assert.Equal(["scale"], ErrorFields(new CreatePoll("q", null, PollKind.Nps, ScaleMin: 1, ScaleMax: 10)));
        Assert.Equal(["options"], ErrorFields(new CreatePoll("q", ["a", "b"], PollKind.Nps)));
    }

    [Theory]
    [InlineData(PollKind.Single)]
    [InlineData(PollKind.Multiple)]
    public void A_scale_on_a_choice_poll_is_refused(PollKind kind) =>
        Assert.Equal(["scale"], ErrorFields(new CreatePoll("q", ["a", "b"], kind, ScaleMin: 1, ScaleMax: 5)));

    [Fact]
    public void A_value_names_the_option_of_that_value_and_only_on_a_scale()
    {
        var poll = Rating(-2, 2);

        Assert.Equal([1], PollRules.ResolveChoice(poll, null, -2, out var r1)!);
        Assert.Null(r1);
        Assert.Equal([5], PollRules.ResolveChoice(poll, null, 2, out _)!);
        Assert.Equal([3], PollRules.ResolveChoice(poll, [3], null, out _)!); // option ids still work

        Assert.Null(PollRules.ResolveChoice(poll, null, 3, out var off));
        Assert.Equal(RejectionKind.UnknownOption, off!.Kind);
        Assert.Contains("-2 to 2", off.Detail, StringComparison.Ordinal);
        Assert.Null(PollRules.ResolveChoice(poll, [1], 1, out var both));
        Assert.Equal(RejectionKind.Invalid, both!.Kind);
        Assert.Null(PollRules.ResolveChoice(poll, null, null, out var neither));
        Assert.Contains("value is required", neither!.Detail, StringComparison.Ordinal);

        var choice = TestEvents.Definition("p2");
        Assert.Null(PollRules.ResolveChoice(choice, null, 1, out var notScale));
        Assert.Equal(RejectionKind.Invalid, notScale!.Kind);
        Assert.Null(PollRules.ResolveChoice(choice, null, null, out var missing));
        Assert.Contains("optionIds is required", missing!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scale_ballot_with_two_options_is_refused()
    {
        var rejection = PollRules.CheckBallot(Rating(), new CastVote("p1", [1, 2], "v", null));

        Assert.Equal(RejectionKind.Invalid, rejection!.Kind);
        Assert.Contains("exactly one value", rejection.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_summary_of_a_rating_is_its_count_sum_and_mean_rounded_to_two_decimals()
    {
        var poll = Rating();

        Assert.Equal(new ScaleSummary(4, 12, 3.0, null), ScaleSummary.Of(poll, [1, 0, 2, 0, 1]));
        Assert.Equal(new ScaleSummary(3, 11, 3.67, null), ScaleSummary.Of(poll, [0, 0, 1, 2, 0])); // 11 / 3 = 3.666…
        Assert.Equal(new ScaleSummary(0, 0, null, null), ScaleSummary.Of(poll, [0, 0, 0, 0, 0]));
        Assert.Equal(-0.5, ScaleSummary.Of(Rating(-2, 2), [1, 0, 0, 1, 0])!.Mean); // (-2 + 1) / 2
        Assert.Null(ScaleSummary.Of(TestEvents.Definition("p2"), [1, 2, 3]));
    }

    [Theory]
    [InlineData(0, 0, 0, 1)]
    [InlineData(6, 0, 0, 1)]
    [InlineData(7, 0, 1, 0)]
    [InlineData(8, 0, 1, 0)]
    [InlineData(9, 1, 0, 0)]
    [InlineData(10, 1, 0, 0)]
    public void Nps_counts_nine_and_ten_as_promoters_seven_and_eight_as_passives_and_the_rest_as_detractors(int value, long promoters, long passives, long detractors)
    {
        var counts = new long[11];
        counts[value] = 1;

        var nps = ScaleSummary.Of(Nps(), counts)!.Nps!;

        Assert.Equal((promoters, passives, detractors), (nps.Promoters, nps.Passives, nps.Detractors));
        Assert.Equal(100.0 * (promoters - detractors), nps.Score);
    }

    [Fact]
    public void The_nps_score_is_the_promoters_share_minus_the_detractors_in_points_to_one_decimal()
    {
        // 3 promoters (9, 10, 10), 1 passive (7), 2 detractors (0, 6) of 6: (3 - 2) / 6 = 16.666…%
        var counts = new long[11];
        counts[9] = 1;
        counts[10] = 2;
        counts[7] = 1;
        counts[0] = 1;
        counts[6] = 1;

        var summary = ScaleSummary.Of(Nps(), counts)!;

        Assert.Equal(new NpsSummary(3, 1, 2, 16.7), summary.Nps);
        Assert.Equal(42, summary.Sum);
        Assert.Equal(7.0, summary.Mean);
        Assert.Null(ScaleSummary.Of(Nps(), new long[11])!.Nps!.Score);
        Assert.Null(ScaleSummary.Of(Rating(0, 10), counts)!.Nps); // a 0-10 rating is not an nps poll
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void The_summary_of_the_counts_equals_a_recomputation_from_every_ballot(int seed)
    {
        // Random ballots on a -3..7 rating with changes allowed: the counts the state keeps must sum, average and split
        // exactly as the voters' final values do.
        var random = new Random(seed);
        var poll = Rating(-3, 7) with { AllowChange = true };
        var state = new PollState(poll, createdPosition: 1);
        var finalValue = new Dictionary<string, int>();
        for (var i = 0; i < 2_000; i++)
        {
            var voter = "v" + random.Next(600);
            var value = random.Next(-3, 8);
            var outcome = state.Decide(new CastVote(poll.Id, PollRules.ResolveChoice(poll, null, value, out _)!, voter, null), Now, out _);
            Assert.Null(outcome.Rejection);
            finalValue[voter] = value;
        }

        var summary = ScaleSummary.Of(state.ToResults())!;

        var values = finalValue.Values.ToArray();
        Assert.Equal(values.Length, summary.Count);
        Assert.Equal(values.Sum(v => (long)v), summary.Sum);
        Assert.Equal(Math.Round(values.Average(), 2, MidpointRounding.AwayFromZero), summary.Mean);
    }

    [Fact]
    public void A_scale_polls_definition_keeps_its_scale_through_the_log_and_a_snapshot()
    {
        var poll = Rating(-2, 2, ["Awful", "Bad", "Fine", "Good", "Great"]);

        var decoded = ((PollCreated)EventCodec.Decode(EventCodec.Encode(new PollCreated(poll)))).Definition;
        Assert.Equal(poll with { Options = decoded.Options }, decoded);
        Assert.Equal(poll.Options, decoded.Options);

        var state = new PollState(poll, createdPosition: 1);
        state.Decide(new CastVote(poll.Id, [2], "v", null), Now, out _);
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            state.Write(w);
        }

        using var r = new BinaryReader(new MemoryStream(buffer.ToArray()), Encoding.UTF8);
        var copy = PollState.Read(r, SnapshotFormat.Version);
        Assert.Equal(-2, copy.Definition.ScaleMin);
        Assert.Equal(PollKind.Rating, copy.Definition.Kind);
        Assert.Equal(state.Counts, copy.Counts);
    }

    [Fact]
    public void A_version_2_definition_reads_with_scale_min_zero()
    {
        var poll = TestEvents.Definition("p3");
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            EventCodec.WriteDefinition(w, poll with { ScaleMin = 7 }, version: 2); // form 2 has no room for it
        }

        using var r = new BinaryReader(new MemoryStream(buffer.ToArray()), Encoding.UTF8);
        var read = EventCodec.ReadDefinition(r, version: 2);

        Assert.Equal(0, read.ScaleMin);
        Assert.Equal(poll.Options, read.Options);
        Assert.Equal(r.BaseStream.Length, r.BaseStream.Position);
    }
}
