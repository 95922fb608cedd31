namespace Tally.Events;

/// <summary>A presenter marked the question asked at <paramref name="QuestionSeq"/> answered: it stays in the results, marked so.</summary>
public sealed record QuestionAnswered(string PollId, long Seq, DateTimeOffset At, long QuestionSeq)
    : PollEvent(PollId, Seq, At)
{
    public string QuestionId => VoteIds.Format(PollId, QuestionSeq);
}
