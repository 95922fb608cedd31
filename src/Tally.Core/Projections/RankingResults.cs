namespace Tally.Projections;

/// <summary>
/// A ranking poll's figures beyond the Borda scores (which are its counts): the ballots and the instant-runoff count.
/// </summary>
/// <param name="Ballots">Ballots counted.</param>
/// <param name="Irv">The instant-runoff count over every ballot, recomputed from the distinct rankings at each publication.</param>
public sealed record RankingResults(long Ballots, IrvResult Irv);

/// <summary>An instant-runoff count: the winner (null with no ballot, or when every ballot is exhausted) and its rounds.</summary>
public sealed record IrvResult(int? Winner, IReadOnlyList<IrvRound> Rounds);

/// <summary>
/// One round of an instant-runoff count: each continuing option's votes (the ballots whose highest continuing preference it
/// is), the ballots that rank no continuing option, and the option eliminated at the end of the round (null in the last
/// round) with where its ballots went in the next one.
/// </summary>
/// <param name="Votes">Votes per continuing option, by option id (ascending).</param>
/// <param name="Exhausted">Ballots that rank no continuing option.</param>
/// <param name="Eliminated">The option eliminated after this round; null in the last round.</param>
/// <param name="Transfers">Where the eliminated option's ballots went: votes gained per continuing option (only those that gained).</param>
/// <param name="TransferredToExhausted">Of the eliminated option's ballots, those that ranked nothing still continuing.</param>
public sealed record IrvRound(
    IReadOnlyList<OptionVotes> Votes,
    long Exhausted,
    int? Eliminated,
    IReadOnlyList<OptionVotes> Transfers,
    long TransferredToExhausted);

/// <summary>An option id with a number of votes.</summary>
public readonly record struct OptionVotes(int Id, long Votes);
