namespace Tally.Polls;

/// <summary>One choice of a poll. Ids are 1-based and dense: option <c>n</c> is at index <c>n - 1</c>.</summary>
public sealed record PollOption(int Id, string Text);
