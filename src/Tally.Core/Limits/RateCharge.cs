namespace Tally.Limits;

/// <summary>
/// Take <paramref name="Count"/> tokens from the bucket <paramref name="Bucket"/> of <paramref name="Subject"/>, sized by
/// <paramref name="Rule"/>. <paramref name="Bucket"/> is an address or a keyed hash, never a voter id or a key as sent.
/// </summary>
public readonly record struct RateCharge(RateSubject Subject, UInt128 Bucket, int Count, RateRule Rule);

/// <summary>A bucket after a request: the tokens left (whole ones) and how long until it is full again.</summary>
public readonly record struct RateStanding(long Remaining, TimeSpan FullIn);

/// <summary>
/// The answer to a set of charges: all taken, or none. <see cref="Standings"/> has one entry per charge, in order
/// (after the take when allowed, as they stand when refused). When refused, <see cref="RefusedAt"/> is the first
/// charge that did not fit and <see cref="RetryAfter"/> is when every charge would fit.
/// </summary>
public sealed record RateDecision(bool Allowed, int RefusedAt, TimeSpan RetryAfter, RateStanding[] Standings);
