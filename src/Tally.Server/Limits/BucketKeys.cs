using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Tally.Server.Access;

namespace Tally.Server.Limits;

/// <summary>
/// Turns voters and API keys into bucket ids: HMAC-SHA256 with the server's bucket key (<see cref="ServerKeys.BucketKey"/>,
/// the same on every node), cut to 128 bits. So no voter id or key id is kept as sent, neither in memory nor in Redis,
/// and nobody who reads Redis can test guesses of voter ids against its keys.
/// </summary>
internal sealed class BucketKeys(ServerKeys keys)
{
    /// <summary>A voter within its workspace (two workspaces' "alice" are two voters), in NFC as the engine dedupes them.</summary>
    public UInt128 Voter(string workspace, string voterId) => Hash('v', workspace, Nfc(voterId));

    /// <summary>An API key by its id (<c>root</c> for the root key).</summary>
    public UInt128 Key(string keyId) => Hash('k', string.Empty, keyId);

    /// <summary>NFC, as the engine compares voter ids; an id that is not valid Unicode stays as it is (the engine refuses it).</summary>
    private static string Nfc(string voterId)
    {
        try
        {
            return voterId.IsNormalized() ? voterId : voterId.Normalize();
        }
        catch (ArgumentException)
        {
            return voterId;
        }
    }

    private UInt128 Hash(char kind, string scope, string value)
    {
        // kind, scope and value with NUL between: unambiguous, as none of them holds a NUL (voter ids refuse control characters).
        var length = Encoding.UTF8.GetMaxByteCount(scope.Length + value.Length + 2);
        var rented = length <= 512 ? null : ArrayPool<byte>.Shared.Rent(length);
        Span<byte> input = rented ?? stackalloc byte[512];
        try
        {
            var n = Encoding.UTF8.GetBytes([kind, '\0'], input);
            n += Encoding.UTF8.GetBytes(scope, input[n..]);
            input[n++] = 0;
            n += Encoding.UTF8.GetBytes(value, input[n..]);
            Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(keys.BucketKey, input[..n], mac);
            return BinaryPrimitives.ReadUInt128BigEndian(mac);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
