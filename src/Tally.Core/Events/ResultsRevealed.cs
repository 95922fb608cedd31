namespace Tally.Events;

/// <summary>The presenter revealed the results of the event's question <paramref name="Question"/> (its answers are locked by then).</summary>
public sealed record ResultsRevealed(string PollId, long Seq, DateTimeOffset At, int Question)
    : PollEvent(PollId, Seq, At);
