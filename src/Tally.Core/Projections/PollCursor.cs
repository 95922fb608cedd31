using System.Globalization;
using System.Text;

namespace Tally.Projections;

/// <summary>
/// The opaque page cursors of <c>GET /v1/polls</c> (base64url of ASCII). An embedded engine pages by creation
/// position in its log (<c>p{position}</c>); a cluster, whose partitions number their logs each on their own,
/// pages by creation time and poll id (<c>c{ticks}.{id}</c>), an order every partition shares.
/// </summary>
public static class PollCursor
{
    private const int MaxLength = 64;

    public static readonly Polls.Rejection Invalid = new(Polls.RejectionKind.Invalid, "cursor is not one this server gave out; use nextCursor from a previous page.");

    public static string FromPosition(long position) => Encode("p" + position.ToString(CultureInfo.InvariantCulture));

    public static bool TryReadPosition(string cursor, out long position)
    {
        position = 0;
        return Decode(cursor) is ['p', .. var digits]
            && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out position)
            && position > 0;
    }

    public static string FromCreation(DateTimeOffset createdAt, string pollId) =>
        Encode("c" + createdAt.UtcTicks.ToString(CultureInfo.InvariantCulture) + "." + pollId);

    public static bool TryReadCreation(string cursor, out DateTimeOffset createdAt, out string pollId)
    {
        createdAt = default;
        pollId = "";
        if (Decode(cursor) is not ['c', .. var rest])
        {
            return false;
        }

        var dot = rest.IndexOf('.');
        if (dot < 1 || dot == rest.Length - 1)
        {
            return false;
        }

        if (!long.TryParse(rest.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        createdAt = new DateTimeOffset(ticks, TimeSpan.Zero);
        pollId = rest[(dot + 1)..];
        return true;
    }

    private static string Encode(string text) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? Decode(string cursor)
    {
        if (cursor.Length is 0 or > MaxLength)
        {
            return null;
        }

        var base64 = cursor.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        Span<byte> bytes = stackalloc byte[MaxLength];
        if (!Convert.TryFromBase64String(base64, bytes, out var written) || written < 2)
        {
            return null;
        }

        foreach (var b in bytes[..written])
        {
            if (b is < 0x21 or > 0x7e)
            {
                return null;
            }
        }

        return Encoding.ASCII.GetString(bytes[..written]);
    }
}
