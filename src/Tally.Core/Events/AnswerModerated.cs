namespace Tally.Events;

/// <summary>A manager approved (it counts from now on) or rejected (it never counts) the held answer made at <paramref name="AnswerSeq"/>.</summary>
public sealed record AnswerModerated(string PollId, long Seq, DateTimeOffset At, long AnswerSeq, bool Approved)
    : PollEvent(PollId, Seq, At);
