namespace Tally.Events;

/// <summary>A manager resumed voting on a paused poll.</summary>
public sealed record PollResumed(string PollId, long Seq, DateTimeOffset At)
    : PollEvent(PollId, Seq, At);
