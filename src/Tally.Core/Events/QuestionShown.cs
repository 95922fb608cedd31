namespace Tally.Events;

/// <summary>
/// The presenter showed question <paramref name="Question"/> (1-based) of the event <paramref name="PollId"/>: it is the live one
/// now. <paramref name="Round"/> numbers the event's quiz questions in the order they were first shown (1, 2, …; a streak is
/// correct answers in consecutive rounds); 0 when the question is not a quiz or was shown before.
/// </summary>
public sealed record QuestionShown(string PollId, long Seq, DateTimeOffset At, int Question, int Round)
    : PollEvent(PollId, Seq, At);
