using Tally.Engine;

namespace Tally.Core.Tests.Engine;

/// <summary>The word cloud's Space-Saving summary: exact under its capacity, bounded over it with its guarantee, and exactly reversible.</summary>
public sealed class TermSummaryTests
{
    [Fact]
    public void Under_its_capacity_the_counts_are_exact_and_equal_a_recount()
    {
        var random = new Random(3);
        var summary = new TermSummary(capacity: 100);
        var exact = new Dictionary<string, long>();
        for (var i = 0; i < 5000; i++)
        {
            var terms = Enumerable.Range(0, random.Next(1, 4)).Select(_ => "t" + random.Next(60)).Distinct().ToArray();
            summary.Add(terms);
            foreach (var t in terms)
            {
                exact[t] = exact.GetValueOrDefault(t) + 1;
            }
        }

        var top = summary.Top(100);
        Assert.Equal(exact.Count, top.Length);
        Assert.All(top, t => Assert.Equal((exact[t.Term], 0L), (t.Count, t.Error)));
        Assert.Equal(exact.OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal).Take(10).Select(e => e.Key), summary.Top(10).Select(t => t.Term));
    }

    [Fact]
    public void Over_its_capacity_memory_stays_bounded_and_every_frequent_term_is_kept_within_its_error()
    {
        var random = new Random(4);
        var summary = new TermSummary(capacity: 64);
        var exact = new Dictionary<string, long>();
        const int answers = 200_000;
        for (var i = 0; i < answers; i++)
        {
            // A Zipf-like stream: a few terms are common, most of 50,000 are rare.
            var term = random.Next(10) < 6 ? "hot" + random.Next(8) : "rare" + random.Next(50_000);
            summary.Add([term]);
            exact[term] = exact.GetValueOrDefault(term) + 1;
        }

        Assert.Equal(64, summary.Count);
        var kept = summary.Top(64).ToDictionary(t => t.Term);
        foreach (var (term, count) in exact.Where(e => e.Value > answers / 64))
        {
            Assert.True(kept.TryGetValue(term, out var t), $"{term} ({count}) is frequent and must be kept");
            Assert.InRange(count, t.Count - t.Error, t.Count); // never understated, overstated by at most the error
            Assert.InRange(t.Error, 0, answers / 64);
        }
    }

    [Fact]
    public void A_failed_batch_is_reversed_exactly_through_evictions_and_removals()
    {
        var random = new Random(5);
        for (var round = 0; round < 30; round++)
        {
            var summary = new TermSummary(capacity: 8);
            for (var i = 0; i < 200; i++)
            {
                summary.Add([.. Enumerable.Range(0, random.Next(1, 3)).Select(_ => "t" + random.Next(20)).Distinct()]);
            }

            summary.ForgetUndo();
            var before = Describe(summary);
            var steps = random.Next(1, 30);
            for (var i = 0; i < steps; i++)
            {
                var terms = Enumerable.Range(0, random.Next(1, 3)).Select(_ => "t" + random.Next(20)).Distinct().ToArray();
                if (random.Next(4) == 0)
                {
                    summary.Remove(terms);
                }
                else
                {
                    summary.Add(terms);
                }
            }

            for (var i = 0; i < steps; i++)
            {
                summary.Unapply();
            }

            Assert.Equal(before, Describe(summary));
        }
    }

    [Fact]
    public void The_snapshot_form_round_trips()
    {
        var summary = new TermSummary(capacity: 4);
        foreach (var t in new[] { "a1", "b2", "c3", "d4", "e5", "a1", "a1" })
        {
            summary.Add([t]);
        }

        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            summary.Write(w);
        }

        var copy = new TermSummary(capacity: 4);
        copy.Read(new BinaryReader(new MemoryStream(stream.ToArray())));
        Assert.Equal(Describe(summary), Describe(copy));
    }

    private static string Describe(TermSummary summary) => string.Join(" ", summary.Top(1000).Select(t => $"{t.Term}:{t.Count}/{t.Error}"));
}
