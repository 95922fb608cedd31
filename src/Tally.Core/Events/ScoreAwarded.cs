namespace Tally.Events;

/// <summary>
/// A participant's answer to a quiz question of the event was scored: <paramref name="Points"/> for speed and
/// <paramref name="Bonus"/> for the streak it makes (<see cref="Polls.QuizScoring"/>), both 0 for a wrong answer. Recorded
/// beside the answer's own <see cref="VoteCast"/> on the question (<paramref name="AnswerSeq"/>, in the same commit), so the
/// leaderboard is the sum of these events and <c>verify</c> can score every answer again from the log.
/// </summary>
/// <param name="Round">The quiz round of the question (<see cref="QuestionShown.Round"/>).</param>
/// <param name="Streak">Correct answers in consecutive rounds, this one included (0 after a wrong answer).</param>
public sealed record ScoreAwarded(
    string PollId, long Seq, DateTimeOffset At, string VoterId, int Question, int Round, long AnswerSeq, bool Correct, int Points, int Bonus, int Streak)
    : PollEvent(PollId, Seq, At)
{
    /// <summary>The vote id of the answer this scored (on question <see cref="Question"/> of the event).</summary>
    public string AnswerId => VoteIds.Format(Polls.EventIds.QuestionId(PollId, Question), AnswerSeq);
}
