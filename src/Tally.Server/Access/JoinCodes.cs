using System.Security.Cryptography;
using System.Text;
using Tally.Polls;

namespace Tally.Server.Access;

/// <summary>
/// Join codes: <see cref="EventRules.JoinCodeLength"/> random characters of <see cref="EventRules.JoinCodeAlphabet"/>. The event's
/// id is the first 50 bits of an HMAC-SHA256 of the code under <see cref="ServerKeys.JoinKey"/>, in the 32 characters of poll ids,
/// so a code finds its event with no index in either mode (every node derives the same id), and an event's id, which is
/// public in its URLs, does not give its code away. The event keeps its code, and a lookup compares it in constant time.
/// </summary>
internal sealed class JoinCodes(ServerKeys keys)
{
    private const string IdAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"; // the alphabet of TallyEngine.NewPollId

    public static string Draw() => RandomNumberGenerator.GetString(EventRules.JoinCodeAlphabet, EventRules.JoinCodeLength);

    /// <summary>The id of the event <paramref name="code"/> (a normalised code) names, if any event has it.</summary>
    public string EventIdOf(string code)
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(keys.JoinKey, Encoding.ASCII.GetBytes("join\0" + code), mac);
        var bits = 0UL;
        for (var i = 0; i < 8; i++)
        {
            bits = (bits << 8) | mac[i];
        }

        Span<char> id = stackalloc char[EventIds.RoutingLength];
        for (var i = 0; i < id.Length; i++)
        {
            id[i] = IdAlphabet[(int)(bits >> (64 - (5 * (i + 1)))) & 31];
        }

        return new string(id);
    }

    /// <summary>True when <paramref name="event"/> is the event of <paramref name="code"/> (constant time).</summary>
    public static bool IsCodeOf(PollDefinition @event, string code) =>
        @event.Event is { } settings
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(settings.JoinCode), Encoding.ASCII.GetBytes(code));
}
