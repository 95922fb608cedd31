using Tally.Polls;

namespace Tally.Projections;

/// <summary>
/// What a scale poll's distribution (<see cref="PollKind.Rating"/>, <see cref="PollKind.Nps"/>) adds up to: derived from
/// the counts alone, so every reader (HTTP results, every live format) computes the same figures from the same seq.
/// </summary>
/// <param name="Count">Ballots counted.</param>
/// <param name="Sum">The sum of the values voted (exact).</param>
/// <param name="Mean">The mean value, rounded to 2 decimals; null with no ballot.</param>
/// <param name="Nps">On an <c>nps</c> poll: promoters, passives, detractors and the score; null on a rating poll.</param>
public sealed record ScaleSummary(long Count, long Sum, double? Mean, NpsSummary? Nps)
{
    /// <summary>The summary of <paramref name="counts"/> (votes per option) on <paramref name="poll"/>, or null when it has no scale.</summary>
    public static ScaleSummary? Of(PollDefinition poll, IReadOnlyList<long> counts)
    {
        ArgumentNullException.ThrowIfNull(poll);
        ArgumentNullException.ThrowIfNull(counts);
        if (!poll.Kind.IsScale())
        {
            return null;
        }

        long count = 0, sum = 0, promoters = 0, passives = 0, detractors = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            var value = poll.ValueOf(i + 1);
            count += counts[i];
            sum += counts[i] * value;
            switch (value)
            {
                case >= 9:
                    promoters += counts[i];
                    break;
                case >= 7:
                    passives += counts[i];
                    break;
                default:
                    detractors += counts[i];
                    break;
            }
        }

        double? mean = count == 0 ? null : Math.Round((double)sum / count, 2, MidpointRounding.AwayFromZero);
        var nps = poll.Kind != PollKind.Nps ? null : new NpsSummary(
            promoters, passives, detractors, count == 0 ? null : Math.Round(100.0 * (promoters - detractors) / count, 1, MidpointRounding.AwayFromZero));
        return new ScaleSummary(count, sum, mean, nps);
    }

    /// <summary>The summary of <paramref name="results"/>, or null when its poll has no scale.</summary>
    public static ScaleSummary? Of(PollResults results)
    {
        ArgumentNullException.ThrowIfNull(results);
        return Of(results.Poll, results.Counts);
    }
}
