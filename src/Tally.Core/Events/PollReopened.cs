namespace Tally.Events;

/// <summary>A manager reopened a closed poll that allows it: it takes votes again.</summary>
public sealed record PollReopened(string PollId, long Seq, DateTimeOffset At)
    : PollEvent(PollId, Seq, At);
