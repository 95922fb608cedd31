namespace Tally.Events;

/// <summary>A manager paused voting on an open poll.</summary>
public sealed record PollPaused(string PollId, long Seq, DateTimeOffset At)
    : PollEvent(PollId, Seq, At);
