using System.Security.Cryptography;
using Tally.Server.Access;
using Tally.Webhooks;

namespace Tally.Server.Webhooks;

/// <summary>
/// Signing secrets in the Standard Webhooks form (<c>whsec_</c> and the base64 of 32 random bytes), shown once when
/// made, and sealed with AES-256-GCM under a server key before they are stored (nonce, tag, ciphertext), so a copy of
/// the store's table alone signs nothing.
/// </summary>
internal sealed class WebhookSecrets(ServerKeys keys)
{
    public const string Prefix = "whsec_";
    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    /// <summary>A new secret: the text to show once, and its sealed form to store.</summary>
    public (string Text, WebhookSecret Stored) Create(DateTimeOffset now)
    {
        var key = RandomNumberGenerator.GetBytes(KeyBytes);
        try
        {
            return (Prefix + Convert.ToBase64String(key), new WebhookSecret(Seal(key), now));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>The HMAC key of a stored secret.</summary>
    public byte[] Open(WebhookSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var sealedBytes = secret.Sealed;
        if (sealedBytes.Length != NonceBytes + TagBytes + KeyBytes)
        {
            throw new CryptographicException("A stored webhook secret has the wrong length.");
        }

        var key = new byte[KeyBytes];
        using var aes = new AesGcm(keys.WebhookSealKey, TagBytes);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), key);
        return key;
    }

    private byte[] Seal(byte[] key)
    {
        var sealedBytes = new byte[NonceBytes + TagBytes + KeyBytes];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, NonceBytes));
        using var aes = new AesGcm(keys.WebhookSealKey, TagBytes);
        aes.Encrypt(sealedBytes.AsSpan(0, NonceBytes), key, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes));
        return sealedBytes;
    }
}
