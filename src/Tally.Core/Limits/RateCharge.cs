namespace Tally.Limits;

/// <summary>
/// Take <paramref name="Count"/> tokens from the bucket <paramref name="Bucket"/> of <paramref name="Subject"/>, sized by
/// <paramref name="Rule"/>. <paramref name="Bucket"/> is an address or a keyed hash, never a voter id or a key as sent.
/// </summary>
public readonly record struct RateCharge(RateSubject Subject, UInt128 Bucket, int Count, RateRule Rule);
