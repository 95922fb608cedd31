namespace Tally.Events;

/// <summary>A draft or scheduled poll opened: by hand, or because its <c>opensAt</c> came.</summary>
public sealed record PollOpened(string PollId, long Seq, DateTimeOffset At, OpenReason Reason)
    : PollEvent(PollId, Seq, At);
