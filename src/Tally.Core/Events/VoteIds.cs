using System.Globalization;

namespace Tally.Events;

/// <summary>Vote ids are derived, not stored: the poll id and the seq of the event that created the ballot.</summary>
public static class VoteIds
{
    public static string Format(string pollId, long ballotSeq) => string.Concat(pollId, "-", ballotSeq.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// The seq of <paramref name="voteId"/>, a vote id of poll <paramref name="pollId"/> (<c>{pollId}-{seq}</c>; the seq alone is
    /// taken too), or null when it is not one (another poll's, no number, a seq below 2: seq 1 is the poll's creation).
    /// </summary>
    public static long? SeqOf(string pollId, string voteId)
    {
        ArgumentNullException.ThrowIfNull(pollId);
        ArgumentNullException.ThrowIfNull(voteId);
        var seq = voteId.StartsWith(pollId + "-", StringComparison.Ordinal) ? voteId.AsSpan(pollId.Length + 1) : voteId.AsSpan();
        return seq.Length is > 0 and <= 18 && long.TryParse(seq, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 2 ? value : null;
    }
}
