namespace Tally.Events;

/// <summary>Vote ids are derived, not stored: the poll id and the seq of the event that created the ballot.</summary>
internal static class VoteIds
{
    public static string Format(string pollId, long ballotSeq) => string.Concat(pollId, "-", ballotSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
