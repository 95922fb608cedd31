namespace Tally.Events;

/// <summary>A poll stopped accepting votes, closed by an admin or because <c>closesAt</c> passed.</summary>
public sealed record PollClosed(string PollId, long Seq, DateTimeOffset At, CloseReason Reason)
    : PollEvent(PollId, Seq, At);
