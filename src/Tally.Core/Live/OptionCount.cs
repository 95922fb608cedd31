namespace Tally.Live;

/// <summary>An option's absolute vote count.</summary>
public readonly record struct OptionCount(int Id, long Votes);
