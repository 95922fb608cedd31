namespace Tally.Events;

/// <summary>
/// A voter of a Q&amp;A poll was erased on request: the questions they asked (<paramref name="Asked"/>, by seq) leave the results,
/// and each of their upvotes (<paramref name="Upvotes"/>, by seq, on the question at the same index of
/// <paramref name="UpvotedQuestions"/>) leaves its question's count. Like <see cref="BallotErased"/>, it names no voter.
/// </summary>
public sealed record QuestionsErased(string PollId, long Seq, DateTimeOffset At, long[] Asked, long[] Upvotes, long[] UpvotedQuestions)
    : PollEvent(PollId, Seq, At)
{
    /// <summary>Every seq the erasure names: the questions asked, then the upvotes.</summary>
    public IEnumerable<long> Seqs => Asked.Concat(Upvotes);
}
