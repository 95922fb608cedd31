namespace Tally.Events;

/// <summary>An immutable fact about one poll. <see cref="Seq"/> numbers a poll's events from 1 with no gaps.</summary>
public abstract record PollEvent(string PollId, long Seq, DateTimeOffset At);
