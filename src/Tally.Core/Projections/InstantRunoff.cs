namespace Tally.Projections;

/// <summary>
/// The instant-runoff count of ranked ballots. Each round gives every ballot to its highest-ranked option still in the
/// count; an option with more than half of the ballots not exhausted wins (as does the last option left); otherwise the
/// option with the fewest votes is eliminated and the next round starts. A tie for fewest is broken by the earlier rounds
/// (the option with fewer votes in the latest round where they differ is eliminated), then by option order (the later
/// option is eliminated), so the count is the same on every node and at every replay. A ballot that ranks only
/// eliminated options is exhausted.
/// </summary>
public static class InstantRunoff
{
    /// <summary>Counts <paramref name="rankings"/>: each distinct ranking (option ids, most preferred first) with its number of ballots.</summary>
    public static IrvResult Count(int options, IEnumerable<(IReadOnlyList<int> Ranking, long Ballots)> rankings)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        var list = rankings.ToList();
        return Count(options, [.. list.Select(r => Key(r.Ranking))], [.. list.Select(r => r.Ballots)]);
    }

    /// <summary>The ranking as a key of <see cref="Count(int, string[], long[])"/>: one char per option id.</summary>
    public static string Key(IReadOnlyList<int> ranking)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        return string.Create(ranking.Count, ranking, static (chars, ids) =>
        {
            for (var i = 0; i < ids.Count; i++)
            {
                chars[i] = (char)ids[i];
            }
        });
    }

    /// <summary>
    /// Counts distinct rankings given as keys (<see cref="Key"/>: one char per option id, most preferred first) with their
    /// ballots. Each ranking sits in the pile of its highest option still in the count; eliminating an option moves only
    /// its pile, so the whole count costs O(rankings + the rankings moved), not O(rankings × rounds).
    /// </summary>
    public static IrvResult Count(int options, string[] rankings, long[] ballots)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        ArgumentNullException.ThrowIfNull(ballots);
        long total = 0;
        foreach (var b in ballots)
        {
            total += Math.Max(b, 0);
        }

        if (total == 0)
        {
            return new IrvResult(null, []);
        }

        var continuing = new bool[options];
        Array.Fill(continuing, true);
        var piles = new List<int>[options];
        for (var i = 0; i < options; i++)
        {
            piles[i] = [];
        }

        var at = new int[rankings.Length]; // each ranking's place of its current option
        var votes = new long[options];
        long exhausted = 0;
        for (var r = 0; r < rankings.Length; r++)
        {
            if (ballots[r] > 0)
            {
                exhausted += Place(r, rankings, ballots, at, continuing, votes, piles);
            }
        }

        var remaining = options;
        var history = new List<long[]>();
        var rounds = new List<(long[] Votes, bool[] Continuing, long Exhausted, int? Eliminated)>();
        int? winner;
        while (true)
        {
            history.Add((long[])votes.Clone());
            var active = total - exhausted;
            var leader = Leader(votes, continuing);
            if (active == 0 || votes[leader - 1] * 2 > active || remaining == 1)
            {
                winner = active == 0 ? null : leader;
                rounds.Add((history[^1], (bool[])continuing.Clone(), exhausted, null));
                break;
            }

            var loser = Loser(history, continuing);
            rounds.Add((history[^1], (bool[])continuing.Clone(), exhausted, loser));
            continuing[loser - 1] = false;
            remaining--;
            votes[loser - 1] = 0;
            foreach (var r in piles[loser - 1])
            {
                at[r]++;
                exhausted += Place(r, rankings, ballots, at, continuing, votes, piles);
            }

            piles[loser - 1] = [];
        }

        return new IrvResult(winner, Rounds(rounds, options));
    }

    /// <summary>Gives ranking <paramref name="r"/> to its highest option still in the count from its place on; its ballots when it has none (exhausted), else 0.</summary>
    private static long Place(int r, string[] rankings, long[] ballots, int[] at, bool[] continuing, long[] votes, List<int>[] piles)
    {
        var ranking = rankings[r];
        while (at[r] < ranking.Length)
        {
            int id = ranking[at[r]];
            if (id >= 1 && id <= continuing.Length && continuing[id - 1])
            {
                votes[id - 1] += ballots[r];
                piles[id - 1].Add(r);
                return 0;
            }

            at[r]++;
        }

        return ballots[r];
    }

    private static List<IrvRound> Rounds(List<(long[] Votes, bool[] Continuing, long Exhausted, int? Eliminated)> rounds, int options)
    {
        var result = new List<IrvRound>(rounds.Count);
        for (var r = 0; r < rounds.Count; r++)
        {
            var (votes, inCount, exhausted, eliminated) = rounds[r];
            var listed = new List<OptionVotes>();
            for (var i = 0; i < options; i++)
            {
                if (inCount[i])
                {
                    listed.Add(new OptionVotes(i + 1, votes[i]));
                }
            }

            var transfers = new List<OptionVotes>();
            long toExhausted = 0;
            if (eliminated is not null)
            {
                var (next, nextInCount, nextExhausted, _) = rounds[r + 1];
                for (var i = 0; i < options; i++)
                {
                    if (nextInCount[i] && next[i] > votes[i])
                    {
                        transfers.Add(new OptionVotes(i + 1, next[i] - votes[i]));
                    }
                }

                toExhausted = nextExhausted - exhausted;
            }

            result.Add(new IrvRound(listed, exhausted, eliminated, transfers, toExhausted));
        }

        return result;
    }

    /// <summary>The continuing option with the most votes (the first of those tied: only a strict majority wins with it).</summary>
    private static int Leader(long[] votes, bool[] continuing)
    {
        var leader = 0;
        for (var i = 0; i < votes.Length; i++)
        {
            if (continuing[i] && (leader == 0 || votes[i] > votes[leader - 1]))
            {
                leader = i + 1;
            }
        }

        return leader;
    }

    /// <summary>The continuing option to eliminate: fewest votes now, then fewer in the latest earlier round that tells them apart, then the later option.</summary>
    private static int Loser(List<long[]> history, bool[] continuing)
    {
        var loser = 0;
        for (var i = continuing.Length - 1; i >= 0; i--)
        {
            if (continuing[i] && (loser == 0 || Fewer(history, i, loser - 1)))
            {
                loser = i + 1;
            }
        }

        return loser;
    }

    /// <summary>Whether option index <paramref name="a"/> had fewer votes than <paramref name="b"/>, looking back from the latest round.</summary>
    private static bool Fewer(List<long[]> history, int a, int b)
    {
        for (var round = history.Count - 1; round >= 0; round--)
        {
            if (history[round][a] != history[round][b])
            {
                return history[round][a] < history[round][b];
            }
        }

        return false; // tied in every round: the later option (met first, scanning from the end) stays the one eliminated
    }
}
