namespace Tally.Limits;

/// <summary>
/// The answer to a set of charges: all taken, or none. <see cref="Standings"/> has one entry per charge, in order
/// (after the take when allowed, as they stand when refused). When refused, <see cref="RefusedAt"/> is the first
/// charge that did not fit and <see cref="RetryAfter"/> is when every charge would fit.
/// </summary>
public sealed record RateDecision(bool Allowed, int RefusedAt, TimeSpan RetryAfter, RateStanding[] Standings);
