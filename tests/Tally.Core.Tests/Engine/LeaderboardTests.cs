using Tally.Engine;
using Tally.Events;

namespace Tally.Core.Tests.Engine;

/// <summary>The leaderboard's ranking (score, then who reached it first), its reversal, and its snapshot form, against recomputation.</summary>
public sealed class LeaderboardTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);

    [Fact]
    public void Ties_rank_by_the_seq_that_reached_the_score_and_a_zero_award_reaches_nothing()
    {
        var board = new Leaderboard();
        board.Apply(new ParticipantJoined("e", 2, At, "ada", "Ada"));
        board.Apply(new ParticipantJoined("e", 3, At, "bob", "Bob"));
        board.Apply(new ParticipantJoined("e", 4, At, "cy", "Cy"));
        board.Apply(Award(5, "bob", 500));
        board.Apply(Award(6, "ada", 500));
        board.Apply(Award(7, "bob", 0)); // a wrong answer: bob still reached 500 at seq 5

        Assert.Equal(["1 bob 500", "2 ada 500", "3 cy 0"], board.Top(10).Select(e => $"{e.Rank} {e.VoterId} {e.Score}"));
        Assert.Equal(2, board.StandingOf("ada")!.Rank);
        Assert.Null(board.StandingOf("nobody"));
        Assert.True(board.IsNameTaken("ADA"));
    }

    [Fact]
    public void Random_joins_and_awards_rank_as_a_recomputation_does_and_reverse_exactly()
    {
        var random = new Random(12);
        for (var round = 0; round < 50; round++)
        {
            var events = new List<PollEvent>();
            var board = new Leaderboard();
            var voters = new List<string>();
            for (var seq = 2L; seq < 200; seq++)
            {
                PollEvent e = voters.Count == 0 || random.Next(4) == 0
                    ? new ParticipantJoined("e", seq, At, "v" + voters.Count, "N" + voters.Count)
                    : Award(seq, voters[random.Next(voters.Count)], random.Next(3) * 250);
                if (e is ParticipantJoined j)
                {
                    voters.Add(j.VoterId);
                }

                board.Apply(e);
                events.Add(e);
                if (random.Next(10) == 0)
                {
                    // Every participant's own standing (the rank table), asked between changes: never a stale rank.
                    Assert.Equal(board.All().Select(x => (x.VoterId, x.Rank)), voters.Select(v => board.StandingOf(v)!).OrderBy(x => x.Rank).Select(x => (x.VoterId, x.Rank)));
                }
            }

            Assert.Equal(Recompute(events), board.All().Select(e => $"{e.VoterId}:{e.Score}"));

            // A failed batch: its events are reversed newest first, leaving the board as it was before them.
            var keep = random.Next(events.Count);
            for (var i = events.Count - 1; i >= keep; i--)
            {
                board.Unapply(events[i]);
            }

            Assert.Equal(Recompute(events[..keep]), board.All().Select(e => $"{e.VoterId}:{e.Score}"));
            Assert.All(board.All(), x => Assert.Equal(x.Rank, board.StandingOf(x.VoterId)!.Rank));
        }
    }

    [Fact]
    public void The_snapshot_form_round_trips()
    {
        var board = new Leaderboard();
        board.Apply(new ParticipantJoined("e", 2, At, "ada", "Ada"));
        board.Apply(new ParticipantJoined("e", 3, At, "bob", "Bob"));
        board.Apply(Award(4, "bob", 900, correct: true, round: 1, streak: 1));
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            board.Write(w);
        }

        var copy = new Leaderboard();
        copy.Read(new BinaryReader(new MemoryStream(stream.ToArray())));

        Assert.Equal(board.All(), copy.All());
        Assert.Equal((1, 1), copy.StreakOf("bob"));
    }

    private static ScoreAwarded Award(long seq, string voter, int points, bool correct = false, int round = 1, int streak = 0) =>
        new("e", seq, At, voter, 1, round, seq, correct || points > 0, points, 0, streak);

    /// <summary>The board from scratch: each voter's sum, ranked by score, then the seq of their last scoring event (their join's when none), then id.</summary>
    private static IEnumerable<string> Recompute(IEnumerable<PollEvent> events)
    {
        var score = new Dictionary<string, (long Score, long Reached)>();
        foreach (var e in events)
        {
            switch (e)
            {
                case ParticipantJoined j:
                    score[j.VoterId] = (0, j.Seq);
                    break;
                case ScoreAwarded a when a.Points + a.Bonus != 0:
                    score[a.VoterId] = (score[a.VoterId].Score + a.Points + a.Bonus, a.Seq);
                    break;
            }
        }

        return score.OrderByDescending(p => p.Value.Score).ThenBy(p => p.Value.Reached).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value.Score}");
    }
}
