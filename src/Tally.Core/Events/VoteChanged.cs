namespace Tally.Events;

/// <summary>A voter replaced their ballot (polls with <c>allowChange</c>): the counts move from
/// <see cref="PreviousOptionIds"/> to <see cref="OptionIds"/>, the number of ballots stays the same.</summary>
/// <param name="BallotSeq">The seq of the <see cref="VoteCast"/> that created the ballot; the vote id stays that one's.</param>
public sealed record VoteChanged(
    string PollId,
    long Seq,
    DateTimeOffset At,
    string VoterId,
    int[] OptionIds,
    int[] PreviousOptionIds,
    long BallotSeq,
    string? IdempotencyKey)
    : PollEvent(PollId, Seq, At)
{
    public string VoteId => VoteIds.Format(PollId, BallotSeq);
}
