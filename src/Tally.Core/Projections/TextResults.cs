namespace Tally.Projections;

/// <summary>A text poll's figures: answers counted (approved, on a moderated poll), answers held, and the most used terms.</summary>
/// <param name="Capacity">The counters the term summary keeps (<c>TermSummary</c>): a term's count may overstate by its error.</param>
public sealed record TextResults(long Answers, int Held, IReadOnlyList<TermCount> Terms, int Capacity);
