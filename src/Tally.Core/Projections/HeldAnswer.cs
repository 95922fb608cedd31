namespace Tally.Projections;

/// <summary>An answer of a moderated text poll that waits for a manager: its vote id's seq, its text, and when it came.</summary>
public sealed record HeldAnswer(long Seq, string Text, DateTimeOffset At, IReadOnlyList<string> Terms);
