using System.Security.Cryptography;
using System.Text;

namespace Tally.Server.Webhooks;

/// <summary>
/// The Standard Webhooks signature: <c>v1,</c> and the base64 of HMAC-SHA256(secret, <c>{id}.{timestamp}.{body}</c>)
/// over the exact bytes sent; several (space separated) while a rotated-out secret still signs.
/// </summary>
internal static class WebhookSignature
{
    public static string Sign(byte[] key, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Encoding.UTF8.GetBytes(messageId + "." + timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) + "."));
        hmac.AppendData(body);
        return "v1," + Convert.ToBase64String(hmac.GetHashAndReset());
    }

    /// <summary>Whether <paramref name="header"/> holds a valid signature under <paramref name="key"/> (constant time per candidate).</summary>
    public static bool Verify(byte[] key, string messageId, long timestamp, ReadOnlySpan<byte> body, string header)
    {
        var expected = Encoding.ASCII.GetBytes(Sign(key, messageId, timestamp, body));
        var valid = false;
        foreach (var candidate in header.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            valid |= CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(candidate));
        }

        return valid;
    }
}
