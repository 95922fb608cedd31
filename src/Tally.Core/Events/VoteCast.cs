namespace Tally.Events;

/// <summary>A new ballot was counted. Its vote id is <c>{PollId}-{Seq}</c>.</summary>
public sealed record VoteCast(string PollId, long Seq, DateTimeOffset At, string? VoterId, int[] OptionIds, string? IdempotencyKey)
    : PollEvent(PollId, Seq, At)
{
    public string VoteId => VoteIds.Format(PollId, Seq);
}
