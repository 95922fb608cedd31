namespace Tally.Projections;

/// <summary>
/// A term of a text poll's answers and how many answers used it. <paramref name="Count"/> may overstate the truth by at most
/// <paramref name="Error"/> (0 while the summary has never had to forget a term; see <c>TermSummary</c>).
/// </summary>
public sealed record TermCount(string Term, long Count, long Error = 0);
