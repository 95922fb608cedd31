using Tally.Polls;

namespace Tally.Projections;

/// <summary>
/// An immutable view of a poll's tally at one seq. Replaced as a whole after each durable commit,
/// so readers never see a half-applied batch and never take a lock.
/// </summary>
/// <param name="Counts">Votes per option: <c>Counts[id - 1]</c>. Never mutated after publication.</param>
/// <param name="TotalVotes">Ballots counted (a multiple-choice ballot counts once here, once per option in <see cref="Counts"/>).</param>
/// <param name="Ranking">On a ranking poll: the instant-runoff count (its <see cref="Counts"/> are the Borda scores); null on other kinds.</param>
/// <param name="Event">On an event: the live question, whether its results are revealed, and the leaderboard's top; null on other kinds.</param>
/// <param name="Text">On a text poll: the answers counted and held, and the most used terms; null on other kinds.</param>
/// <param name="Questions">On a Q&amp;A poll: the questions shown and held, and the most upvoted; null on other kinds.</param>
/// <param name="OpenedAt">When the poll last opened (a quiz question's clock starts then); null while it never has, or when it opened at creation.</param>
public sealed record PollResults(
    PollDefinition Poll,
    long Seq,
    PollStatus Status,
    DateTimeOffset? ClosedAt,
    long TotalVotes,
    IReadOnlyList<long> Counts,
    RankingResults? Ranking = null,
    EventView? Event = null,
    DateTimeOffset? OpenedAt = null,
    TextResults? Text = null,
    QuestionResults? Questions = null);
