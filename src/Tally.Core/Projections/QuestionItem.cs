namespace Tally.Projections;

/// <summary>A shown question of a Q&amp;A poll: its vote id's seq, its text, its upvotes, whether a presenter answered it, and when it was asked.</summary>
public sealed record QuestionItem(long Seq, string Text, long Votes, bool Answered, DateTimeOffset At);
