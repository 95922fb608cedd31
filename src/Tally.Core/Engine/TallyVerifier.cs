using Tally.Events;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// Recomputes every poll's results from its durable log and compares them with what the engine serves: counts (Borda
/// scores on ranking polls), ballots counted, status, and the instant runoff. Each poll is compared at the seq the
/// engine served when it was read (the events through that seq folded into a fresh state), so votes arriving meanwhile
/// do not count as differences. Works on any <see cref="ITallyEngine"/> (embedded, or a cluster node reading every partition).
/// </summary>
public static class TallyVerifier
{
    /// <summary>The most differences a report lists (it counts them all).</summary>
    public const int MaxListed = 100;

    public static async Task<VerifyReport> VerifyAsync(ITallyEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var differences = new List<VerifyDifference>();
        long polls = 0, events = 0, found = 0;
        string? cursor = null;
        do
        {
            var page = await engine.ListPollsAsync(null, 100, cursor, cancellationToken).ConfigureAwait(false);
            if (page.Value is not { } items)
            {
                throw new InvalidOperationException("The polls could not be listed: " + page.Rejection!.Detail);
            }

            foreach (var listed in items.Items)
            {
                // The latest committed results (a listing may be a cluster node's copy), then the log through their seq.
                var served = (await engine.GetResultsAsync(listed.Poll.Id, cancellationToken).ConfigureAwait(false)).Value ?? listed;
                polls++;
                var (recomputed, read, gap) = await RecomputeAsync(engine, served, cancellationToken).ConfigureAwait(false);
                events += read;
                foreach (var difference in Compare(served, recomputed, gap))
                {
                    found++;
                    if (differences.Count < MaxListed)
                    {
                        differences.Add(difference);
                    }
                }
            }

            cursor = items.NextCursor;
        }
        while (cursor is not null);

        return new VerifyReport(polls, events, found, differences);
    }

    private static async Task<(PollResults Recomputed, long Events, string? Gap)> RecomputeAsync(ITallyEngine engine, PollResults served, CancellationToken cancellationToken)
    {
        var state = new PollState(served.Poll, createdPosition: 0, countsOnly: true);
        long read = 0;
        string? gap = null;
        await foreach (var e in engine.ReadPollEventsAsync(served.Poll.Id, served.Seq, cancellationToken).ConfigureAwait(false))
        {
            read++;
            if (e is PollCreated)
            {
                continue;
            }

            if (e.Seq != state.Seq + 1)
            {
                gap ??= $"the log jumps from seq {state.Seq} to {e.Seq}";
                break;
            }

            state.Apply(e);
        }

        return (state.ToResults(), read, gap);
    }

    private static IEnumerable<VerifyDifference> Compare(PollResults served, PollResults recomputed, string? gap)
    {
        var id = served.Poll.Id;
        if (gap is not null)
        {
            yield return new VerifyDifference(id, "log", "complete", gap);
        }

        if (served.Seq != recomputed.Seq)
        {
            yield return new VerifyDifference(id, "seq", Text(served.Seq), Text(recomputed.Seq));
        }

        if (served.Status != recomputed.Status)
        {
            yield return new VerifyDifference(id, "status", served.Status.ToString(), recomputed.Status.ToString());
        }

        if (served.TotalVotes != recomputed.TotalVotes)
        {
            yield return new VerifyDifference(id, "totalVotes", Text(served.TotalVotes), Text(recomputed.TotalVotes));
        }

        for (var i = 0; i < Math.Max(served.Counts.Count, recomputed.Counts.Count); i++)
        {
            var a = i < served.Counts.Count ? served.Counts[i] : 0;
            var b = i < recomputed.Counts.Count ? recomputed.Counts[i] : 0;
            if (a != b)
            {
                yield return new VerifyDifference(id, $"option {i + 1}", Text(a), Text(b));
            }
        }

        var (servedRunoff, recomputedRunoff) = (Runoff(served.Ranking), Runoff(recomputed.Ranking));
        if (servedRunoff != recomputedRunoff)
        {
            yield return new VerifyDifference(id, "instantRunoff", servedRunoff, recomputedRunoff);
        }
    }

    /// <summary>A ranking poll's runoff as one comparable line: the winner, then each round's votes and elimination.</summary>
    private static string Runoff(RankingResults? ranking) =>
        ranking is null ? "none" : $"{ranking.Ballots} ballots, winner {ranking.Irv.Winner?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}; "
            + string.Join("; ", ranking.Irv.Rounds.Select(r => string.Join(" ", r.Votes.Select(v => $"{v.Id}:{v.Votes}")) + $" x{r.Exhausted}" + (r.Eliminated is { } out_ ? $" -{out_}" : "")));

    private static string Text(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What <see cref="TallyVerifier"/> found: polls and events checked, and the differences (all counted, the first <see cref="TallyVerifier.MaxListed"/> listed).</summary>
public sealed record VerifyReport(long Polls, long Events, long DifferenceCount, IReadOnlyList<VerifyDifference> Differences)
{
    public bool Clean => DifferenceCount == 0;
}

/// <summary>One figure of one poll that the engine serves otherwise than its log says.</summary>
public sealed record VerifyDifference(string PollId, string What, string Served, string Recomputed);
