namespace Tally.Limits;

/// <summary>A bucket after a request: the tokens left (whole ones) and how long until it is full again.</summary>
public readonly record struct RateStanding(long Remaining, TimeSpan FullIn);
