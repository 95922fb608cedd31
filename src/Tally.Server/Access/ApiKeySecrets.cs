using System.Security.Cryptography;
using System.Text;

namespace Tally.Server.Access;

/// <summary>
/// The form of an API key as clients send it: <c>tly_{id}_{secret}</c>, where the id (12 characters) names the key
/// in logs and the audit and the secret (32 characters, 160 bits) is never stored, only its SHA-256.
/// </summary>
internal static class ApiKeySecrets
{
    public const string Prefix = "tly_";
    private const string Alphabet = "abcdefghijkmnpqrstuvwxyz23456789"; // 32 symbols, no 0/o, 1/l
    private const int IdLength = 12;
    private const int SecretLength = 32;

    /// <summary>The longest key a client can send; anything longer is not a key.</summary>
    public const int MaxLength = 4 + IdLength + 1 + SecretLength;

    /// <summary>A new key: its id, the whole key to show once, and the hash to store.</summary>
    public static (string Id, string Key, byte[] Hash) Create()
    {
        var id = RandomNumberGenerator.GetString(Alphabet, IdLength);
        var secret = RandomNumberGenerator.GetString(Alphabet, SecretLength);
        return (id, $"{Prefix}{id}_{secret}", Hash(secret));
    }

    /// <summary>True when <paramref name="credential"/> has the shape of a key (it may still be unknown or wrong).</summary>
    public static bool LooksLikeKey(string credential) => credential.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Splits a key into its id and secret; false when it is not of the key's form.</summary>
    public static bool TryParse(string key, out string id, out string secret)
    {
        id = secret = string.Empty;
        if (key.Length != MaxLength || !LooksLikeKey(key) || key[4 + IdLength] != '_')
        {
            return false;
        }

        id = key.Substring(4, IdLength);
        secret = key.Substring(4 + IdLength + 1);
        return IsOfAlphabet(id) && IsOfAlphabet(secret);
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>Compares a sent secret with a stored hash in time that does not depend on where they differ.</summary>
    public static bool Matches(string secret, byte[] storedHash) => CryptographicOperations.FixedTimeEquals(Hash(secret), storedHash);

    /// <summary>True when <paramref name="id"/> could be a key id (for paths: anything else is simply not found).</summary>
    public static bool IsKeyId(string id) => id.Length == IdLength && IsOfAlphabet(id);

    private static bool IsOfAlphabet(string value)
    {
        foreach (var c in value)
        {
            if (!Alphabet.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
