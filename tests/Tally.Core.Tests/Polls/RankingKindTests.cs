using System.Text;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Tally.Testing;

namespace Tally.Core.Tests.Polls;

/// <summary>Ranking polls: Borda scores as the counts, and the instant-runoff count, against examples worked by hand.</summary>
public sealed class RankingKindTests
{
    private static readonly DateTimeOffset Now = TestEvents.Epoch;

    private static PollDefinition Ranking(int options = 3, int? top = null, bool allowChange = false, DedupePolicy dedupe = DedupePolicy.Voter) =>
        PollRules.TryDefine(
            new CreatePoll("Order them", [.. Enumerable.Range(1, options).Select(i => (string?)("O" + i))], PollKind.Ranking, MaxChoices: top, Dedupe: dedupe, AllowChange: allowChange),
            "p1",
            Now,
            out var rejection) ?? throw new InvalidOperationException(rejection!.Detail);

    private static IrvResult Count(int options, params (int[] Ranking, long Ballots)[] ballots) =>
        InstantRunoff.Count(options, ballots.Select(b => ((IReadOnlyList<int>)b.Ranking, b.Ballots)));

    private static (int Id, long Votes)[] Votes(IrvRound round) => [.. round.Votes.Select(v => (v.Id, v.Votes))];

    [Fact]
    public void A_ranking_poll_takes_top_k_of_its_options_in_order()
    {
        var poll = Ranking(options: 4, top: 2);

        Assert.Equal(2, poll.MaxChoices);
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [3, 1], "v", null)));
        Assert.Null(PollRules.CheckBallot(poll, new CastVote("p1", [4], "v", null))); // a shorter ranking is fine
        Assert.Equal(RejectionKind.Invalid, PollRules.CheckBallot(poll, new CastVote("p1", [1, 2, 3], "v", null))!.Kind);
        Assert.Equal(RejectionKind.Invalid, PollRules.CheckBallot(poll, new CastVote("p1", [2, 2], "v", null))!.Kind);
        Assert.Equal(4, Ranking(options: 4).MaxChoices); // all of them by default
    }

    [Fact]
    public void The_counts_are_borda_scores_and_the_runoff_transfers_the_last_options_ballots()
    {
        // 5 × A>B>C, 4 × B>C>A, 3 × C>B>A. Borda (3 options: 3, 2, 1 points): A 15+4+3 = 22, B 10+12+6 = 28, C 5+8+9 = 22.
        // Runoff: A 5, B 4, C 3 — no majority of 12; C goes, its 3 ballots to B: A 5, B 7 — B wins.
        var poll = Ranking();
        var state = new PollState(poll, createdPosition: 1);
        var voter = 0;
        foreach (var (ranking, count) in new[] { (new[] { 1, 2, 3 }, 5), ([2, 3, 1], 4), ([3, 2, 1], 3) })
        {
            for (var i = 0; i < count; i++)
            {
                Assert.Null(state.Decide(new CastVote("p1", ranking, "v" + voter++, null), Now, out _).Rejection);
            }
        }

        var results = state.ToResults();

        Assert.Equal([22L, 28, 22], results.Counts);
        Assert.Equal(12, results.TotalVotes);
        var irv = results.Ranking!.Irv;
        Assert.Equal(2, irv.Winner);
        Assert.Equal(2, irv.Rounds.Count);
        Assert.Equal([(1, 5L), (2, 4), (3, 3)], Votes(irv.Rounds[0]));
        Assert.Equal(3, irv.Rounds[0].Eliminated);
        Assert.Equal([new OptionVotes(2, 3)], irv.Rounds[0].Transfers);
        Assert.Equal([(1, 5L), (2, 7)], Votes(irv.Rounds[1]));
        Assert.Null(irv.Rounds[1].Eliminated);
    }

    [Fact]
    public void A_partial_ranking_is_exhausted_when_its_options_are_out_and_the_majority_is_of_the_ballots_left()
    {
        // 4 × A, 3 × B, 2 × C: C goes and its ballots rank nothing else: A 4 of the 7 left is a majority.
        var irv = Count(3, ([1], 4), ([2], 3), ([3], 2));

        Assert.Equal(1, irv.Winner);
        Assert.Equal(3, irv.Rounds[0].Eliminated);
        Assert.Empty(irv.Rounds[0].Transfers);
        Assert.Equal(2, irv.Rounds[0].TransferredToExhausted);
        Assert.Equal(2, irv.Rounds[1].Exhausted);
        Assert.Equal([(1, 4L), (2, 3)], Votes(irv.Rounds[1]));
    }

    [Fact]
    public void A_tie_for_last_place_is_broken_by_the_earlier_rounds()
    {
        // Round 1: A 3, B 2, C 2, D 1 → D out, its ballot to C. Round 2: A 3, B 2, C 3 → B out, its ballots (B>D)
        // exhaust. Round 3: A 3, C 3 of 6: no majority, a tie for last; round 2 ties too, round 1 has C 2 < A 3 → C out.
        var irv = Count(4, ([1], 3), ([2, 4], 2), ([3], 2), ([4, 3], 1));

        Assert.Equal([4, 2, 3, (int?)null], irv.Rounds.Select(r => r.Eliminated));
        Assert.Equal([(1, 3L), (3, 3)], Votes(irv.Rounds[2]));
        Assert.Equal(2, irv.Rounds[2].Exhausted);
        Assert.Equal(1, irv.Winner);
        Assert.Equal([(1, 3L)], Votes(irv.Rounds[3]));
    }

    [Fact]
    public void A_tie_in_every_round_eliminates_the_later_option_and_no_ballot_means_no_winner()
    {
        var irv = Count(2, ([1], 1), ([2], 1));

        Assert.Equal(2, irv.Rounds[0].Eliminated);
        Assert.Equal(1, irv.Winner);
        Assert.Equal(new IrvResult(null, []), Count(3));
        Assert.Equal(1, Count(3, ([3, 1], 0), ([1], 1)).Winner); // a ranking with no ballot left counts for nothing
    }

    [Fact]
    public void A_strict_majority_wins_in_the_first_round()
    {
        var irv = Count(3, ([2, 1], 3), ([1], 1), ([3], 1));

        Assert.Equal(2, irv.Winner);
        Assert.Single(irv.Rounds);
    }

    [Fact]
    public void Changing_a_ranking_moves_its_points_and_its_runoff_vote_and_the_order_is_part_of_the_idempotent_ballot()
    {
        var poll = Ranking(allowChange: true);
        var state = new PollState(poll, createdPosition: 1);
        state.Decide(new CastVote("p1", [1, 2], "ann", "k1"), Now, out _);
        Assert.Equal([3L, 2, 0], state.Counts);

        var reordered = state.Decide(new CastVote("p1", [2, 1], "ann", "k1"), Now, out _);
        Assert.Equal(RejectionKind.IdempotencyKeyReused, reordered.Rejection!.Kind); // same options, another ballot

        state.Decide(new CastVote("p1", [3, 1, 2], "ann", null), Now, out var changed);
        Assert.NotNull(changed);
        Assert.Equal([2L, 1, 3], state.Counts);
        Assert.Equal(3, state.ToResults().Ranking!.Irv.Winner);

        state.Unapply(changed);
        Assert.Equal([3L, 2, 0], state.Counts);
        Assert.Equal(1, state.ToResults().Ranking!.Irv.Winner);
    }

    [Theory]
    [InlineData(1, DedupePolicy.Voter)]
    [InlineData(2, DedupePolicy.Voter)]
    [InlineData(3, DedupePolicy.None)]
    [InlineData(4, DedupePolicy.None)]
    [InlineData(5, DedupePolicy.Voter)]
    public void Incremental_scores_and_runoff_equal_a_recount_of_every_ballot_and_survive_a_snapshot(int seed, DedupePolicy dedupe)
    {
        var random = new Random(seed);
        const int Options = 5;
        var poll = Ranking(Options, top: 4, allowChange: dedupe == DedupePolicy.Voter, dedupe: dedupe);
        var state = new PollState(poll, createdPosition: 1);
        var ballots = new Dictionary<string, int[]>();
        for (var i = 0; i < 1_500; i++)
        {
            var voter = dedupe == DedupePolicy.Voter ? "v" + random.Next(400) : "anon" + i;
            var ranking = Enumerable.Range(1, Options).OrderBy(_ => random.Next()).Take(random.Next(1, 5)).ToArray();
            Assert.Null(state.Decide(new CastVote("p1", ranking, dedupe == DedupePolicy.Voter ? voter : null, null), Now, out _).Rejection);
            ballots[voter] = ranking;
        }

        var borda = new long[Options];
        foreach (var ranking in ballots.Values)
        {
            for (var p = 0; p < ranking.Length; p++)
            {
                borda[ranking[p] - 1] += Options - p;
            }
        }

        var results = state.ToResults();
        Assert.Equal(borda, results.Counts);
        var recount = InstantRunoff.Count(Options, ballots.Values.Select(r => ((IReadOnlyList<int>)r, 1L)));
        AssertSameRunoff(recount, results.Ranking!.Irv);

        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            state.Write(w);
        }

        using var r = new BinaryReader(new MemoryStream(buffer.ToArray()), Encoding.UTF8);
        var copy = PollState.Read(r, SnapshotFormat.Version);
        Assert.Equal(r.BaseStream.Length, r.BaseStream.Position);
        AssertSameRunoff(recount, copy.ToResults().Ranking!.Irv);
        Assert.Equal(borda, copy.Counts);
    }

    [Theory]
    [InlineData(11, 3, 40)]
    [InlineData(12, 5, 300)]
    [InlineData(13, 8, 2_000)]
    [InlineData(14, 10, 5_000)]
    public void The_pile_count_equals_a_naive_count_that_recounts_every_ballot_each_round(int seed, int options, int ballots)
    {
        var random = new Random(seed);
        var rankings = Enumerable.Range(0, ballots)
            .Select(_ => Enumerable.Range(1, options).OrderBy(_ => random.Next()).Take(random.Next(1, options + 1)).ToArray())
            .ToArray();

        var irv = InstantRunoff.Count(options, rankings.Select(r => ((IReadOnlyList<int>)r, 1L)));

        // The rules of InstantRunoff, written as plainly as possible: every round, every ballot from the top.
        var continuing = Enumerable.Range(1, options).ToHashSet();
        var history = new List<Dictionary<int, long>>();
        for (var round = 0; ; round++)
        {
            var votes = continuing.ToDictionary(o => o, _ => 0L);
            var exhausted = 0L;
            foreach (var ranking in rankings)
            {
                var top = ranking.FirstOrDefault(continuing.Contains);
                if (top == 0)
                {
                    exhausted++;
                }
                else
                {
                    votes[top]++;
                }
            }

            history.Add(votes);
            Assert.Equal(votes.OrderBy(v => v.Key).Select(v => new OptionVotes(v.Key, v.Value)), irv.Rounds[round].Votes);
            Assert.Equal(exhausted, irv.Rounds[round].Exhausted);
            var active = ballots - exhausted;
            var best = votes.MaxBy(v => v.Value);
            if (best.Value * 2 > active || continuing.Count == 1)
            {
                Assert.Equal(votes.Where(v => v.Value == best.Value).Min(v => v.Key), irv.Winner);
                Assert.Equal(round + 1, irv.Rounds.Count);
                return;
            }

            var loser = continuing
                .OrderBy(o => 0)
                .ThenBy(o => o, Comparer<int>.Create((a, b) =>
                {
                    for (var h = history.Count - 1; h >= 0; h--)
                    {
                        if (history[h][a] != history[h][b])
                        {
                            return history[h][a].CompareTo(history[h][b]);
                        }
                    }

                    return b.CompareTo(a); // tied throughout: the later option goes first
                }))
                .First();
            Assert.Equal(loser, irv.Rounds[round].Eliminated);
            continuing.Remove(loser);
        }
    }

    private static void AssertSameRunoff(IrvResult expected, IrvResult actual)
    {
        Assert.Equal(expected.Winner, actual.Winner);
        Assert.Equal(expected.Rounds.Count, actual.Rounds.Count);
        for (var i = 0; i < expected.Rounds.Count; i++)
        {
            Assert.Equal(expected.Rounds[i].Votes, actual.Rounds[i].Votes);
            Assert.Equal(expected.Rounds[i].Exhausted, actual.Rounds[i].Exhausted);
            Assert.Equal(expected.Rounds[i].Eliminated, actual.Rounds[i].Eliminated);
            Assert.Equal(expected.Rounds[i].Transfers, actual.Rounds[i].Transfers);
        }
    }
}
