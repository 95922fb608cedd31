namespace Tally.Projections;

/// <summary>One page of polls, newest first, and the cursor of the next page (null on the last).</summary>
public sealed record PollPage(IReadOnlyList<PollResults> Items, string? NextCursor);
