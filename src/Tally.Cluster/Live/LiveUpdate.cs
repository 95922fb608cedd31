using Tally.Polls;
using Tally.Projections;

namespace Tally.Cluster.Live;

/// <summary>
/// A poll's state at <see cref="Seq"/>, as the partition's owner publishes it on <c>{ns}.live.{pollId}</c>:
/// the absolute counts of every option, so any one update brings a follower up to date and a lost one costs
/// nothing once the next arrives. The definition does not travel (it never changes; followers fetch it once). A ranking
/// poll's update carries its instant-runoff count too (followers keep no ballots to recount it), and an event's its live question
/// and the top of its leaderboard.
/// </summary>
internal sealed record LiveUpdate(string PollId, long Seq, PollStatus Status, DateTimeOffset? ClosedAt, long TotalVotes, IReadOnlyList<long> Counts, RankingResults? Ranking = null,
    EventView? Event = null, DateTimeOffset? OpenedAt = null, TextResults? Text = null, QuestionResults? Questions = null)
{
    public static LiveUpdate Of(PollResults results) =>
        new(results.Poll.Id, results.Seq, results.Status, results.ClosedAt, results.TotalVotes, results.Counts, results.Ranking, results.Event is { } view ? view with { Changed = null } : null, results.OpenedAt, results.Text, results.Questions);

    /// <summary><paramref name="current"/> moved forward to this update.</summary>
    public PollResults Onto(PollResults current) =>
        current with { Seq = Seq, Status = Status, ClosedAt = ClosedAt, TotalVotes = TotalVotes, Counts = Counts, Ranking = Ranking, Event = Event, OpenedAt = OpenedAt, Text = Text, Questions = Questions };
}
