using System.Security.Cryptography;
using System.Text;

namespace Tally.Server.Access;

/// <summary>
/// Single-use invite codes. A code is 8 random bytes and the first 7 bytes of an HMAC-SHA256 of them and the poll's
/// id under <see cref="ServerKeys.InviteKey"/>, written in 24 characters of Crockford base32 in groups of four. The
/// server keeps no list: a code is valid for its poll when its MAC is right, and it votes once because the voter id
/// it stands for (<c>invite:{random part}</c>) is deduped by the poll's single writer, like any voter, across
/// concurrent attempts and crashes. Codes are shown once, when minted.
/// </summary>
internal sealed class InviteCodes(ServerKeys keys)
{
    public const string VoterPrefix = "invite:";

    /// <summary>Longest code input looked at (dashes and spaces allowed); anything longer is not a code.</summary>
    public const int MaxInputLength = 64;

    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford's base32
    private const int RandomBytes = 8;
    private const int MacBytes = 7;
    private const int Characters = (RandomBytes + MacBytes) * 8 / 5;

    public IReadOnlyList<string> Mint(string pollId, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var codes = new string[count];
        Span<byte> code = stackalloc byte[RandomBytes + MacBytes];
        for (var i = 0; i < count; i++)
        {
            RandomNumberGenerator.Fill(code[..RandomBytes]);
            Mac(pollId, code[..RandomBytes], code[RandomBytes..]);
            codes[i] = Format(Encode(code));
        }

        return codes;
    }

    /// <summary>The voter id the code stands for on <paramref name="pollId"/>, or null when it is not one of the poll's codes.</summary>
    public string? VoterOf(string pollId, string? input)
    {
        if (input is null || input.Length > MaxInputLength || !TryDecode(input, out var code))
        {
            return null;
        }

        Span<byte> expected = stackalloc byte[MacBytes];
        Mac(pollId, code.AsSpan(0, RandomBytes), expected);
        return CryptographicOperations.FixedTimeEquals(expected, code.AsSpan(RandomBytes))
            ? VoterPrefix + Convert.ToHexStringLower(code.AsSpan(0, RandomBytes))
            : null;
    }

    private void Mac(string pollId, ReadOnlySpan<byte> random, Span<byte> into)
    {
        var message = new byte[7 + Encoding.UTF8.GetByteCount(pollId) + 1 + RandomBytes];
        Encoding.UTF8.GetBytes("invite\0", message);
        var at = 7 + Encoding.UTF8.GetBytes(pollId, message.AsSpan(7));
        message[at++] = 0;
        random.CopyTo(message.AsSpan(at));
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(keys.InviteKey, message, mac);
        mac[..into.Length].CopyTo(into);
    }

    private static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[Characters];
        int buffer = 0, bits = 0, at = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[at++] = Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }

        return new string(chars);
    }

    private static bool TryDecode(string input, out byte[] code)
    {
        code = new byte[RandomBytes + MacBytes];
        int buffer = 0, bits = 0, at = 0, symbols = 0;
        foreach (var raw in input)
        {
            if (raw is '-' or ' ')
            {
                continue;
            }

            var c = char.ToUpperInvariant(raw) switch { 'O' => '0', 'I' or 'L' => '1', var other => other };
            var value = Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (value < 0 || ++symbols > Characters)
            {
                return false;
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                code[at++] = (byte)(buffer >> (bits - 8));
                bits -= 8;
            }
        }

        return symbols == Characters;
    }

    private static string Format(string code) =>
        string.Join('-', Enumerable.Range(0, Characters / 4).Select(i => code.Substring(i * 4, 4)));
}
