using System.Security.Cryptography;
using System.Text;

namespace Tally.Polls;

/// <summary>
/// An event's passcode, kept as PBKDF2-SHA256 with a random salt (the passcode itself is in no log or snapshot) and checked
/// in constant time. 10,000 iterations: a passcode keeps strangers out of one live session for its hour, and joins are
/// rate-limited per client, so the cost is sized for many participants joining at once rather than for an offline attack.
/// </summary>
public static class Passcodes
{
    public const int MinLength = 4;
    public const int MaxLength = 64;
    private const int Iterations = 10_000;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static (byte[] Salt, byte[] Hash) Hash(string passcode)
    {
        ArgumentNullException.ThrowIfNull(passcode);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        return (salt, Derive(passcode, salt));
    }

    /// <summary>True when the event takes no passcode, or <paramref name="passcode"/> is its passcode.</summary>
    public static bool Verify(EventSettings settings, string? passcode)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.HasPasscode)
        {
            return true;
        }

        if (passcode is null || passcode.Length > MaxLength)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(Derive(passcode, settings.PasscodeSalt!), settings.PasscodeHash);
    }

    private static byte[] Derive(string passcode, byte[] salt) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passcode), salt, Iterations, HashAlgorithmName.SHA256, HashBytes);
}
