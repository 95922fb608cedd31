namespace Tally.Events;

/// <summary>A voter upvoted the question asked at <paramref name="QuestionSeq"/> (once per voter per question). Its own vote id is <c>{PollId}-{Seq}</c>.</summary>
public sealed record QuestionUpvoted(string PollId, long Seq, DateTimeOffset At, string VoterId, long QuestionSeq, string? IdempotencyKey)
    : PollEvent(PollId, Seq, At)
{
    public string VoteId => VoteIds.Format(PollId, Seq);

    public string QuestionId => VoteIds.Format(PollId, QuestionSeq);
}
