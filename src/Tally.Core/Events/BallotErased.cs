namespace Tally.Events;

/// <summary>
/// A voter's ballot was erased on request: it leaves the counts (its current <see cref="OptionIds"/> lose it) and the
/// poll forgets who cast it. The event itself holds no voter id; <see cref="BallotSeq"/> names the ballot.
/// </summary>
/// <param name="BallotSeq">The seq of the <see cref="VoteCast"/> that created the ballot.</param>
public sealed record BallotErased(string PollId, long Seq, DateTimeOffset At, long BallotSeq, int[] OptionIds)
    : PollEvent(PollId, Seq, At)
{
    public string VoteId => VoteIds.Format(PollId, BallotSeq);
}
