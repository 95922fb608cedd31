namespace Tally.Projections;

/// <summary>
/// Net Promoter Score figures of a 0–10 distribution: promoters answered 9 or 10, passives 7 or 8, detractors 0 to 6.
/// </summary>
/// <param name="Score">The promoters' percentage minus the detractors', −100 to 100, rounded to 1 decimal; null with no ballot.</param>
public sealed record NpsSummary(long Promoters, long Passives, long Detractors, double? Score);
