using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;
using Tally.Access;

namespace Tally.Server.Access;

/// <summary>
/// The server's own secrets, kept in the access store (so every node of a cluster has the same ones, and a restart
/// keeps them): the key that signs the tokens Tally issues (anonymous voter ids, watch tokens) and the key that
/// makes invite codes, the key that hashes voter ids and API key ids into rate-limit buckets (so neither is
/// kept as sent, in memory or in Redis), the key that hashes voter ids in exports, the key that derives an event's id from its join code, and the key that seals webhook secrets. Loaded once at start; never logged.
/// </summary>
internal sealed class ServerKeys
{
    public const string TokenSigningName = "tally.token-signing.v1";
    public const string InviteName = "tally.invite-codes.v1";
    public const string BucketName = "tally.rate-limit-buckets.v1";
    public const string ExportName = "tally.export-voter-hash.v1";
    public const string JoinName = "tally.join-codes.v1";
    public const string WebhookSealName = "tally.webhook-secrets.v1";

    private SymmetricSecurityKey? _tokenKey;
    private byte[]? _inviteKey;
    private byte[]? _bucketKey;
    private byte[]? _exportKey;
    private byte[]? _joinKey;
    private byte[]? _webhookSealKey;

    /// <summary>HS256 key of Tally's own tokens.</summary>
    public SymmetricSecurityKey TokenKey => _tokenKey ?? throw new InvalidOperationException("The server keys are not loaded yet.");

    /// <summary>HMAC key of invite codes.</summary>
    public byte[] InviteKey => _inviteKey ?? throw new InvalidOperationException("The server keys are not loaded yet.");

    /// <summary>HMAC key of rate-limit buckets (voters, API keys).</summary>
    public byte[] BucketKey => _bucketKey ?? throw new InvalidOperationException("The server keys are not loaded yet.");

    /// <summary>HMAC key of the voter ids an export shows hashed.</summary>
    public byte[] ExportKey => _exportKey ?? throw new InvalidOperationException("The server keys are not loaded yet.");

    /// <summary>HMAC key that derives an event's id from its join code.</summary>
    public byte[] JoinKey => _joinKey ?? throw new InvalidOperationException("The server keys are not loaded yet.");

    /// <summary>AES-256-GCM key that seals webhook signing secrets before they are stored.</summary>
    public byte[] WebhookSealKey => _webhookSealKey ?? throw new InvalidOperationException("The server keys are not loaded yet.");

    public async Task LoadAsync(IAccessStore store, CancellationToken cancellationToken)
    {
        var token = await store.GetOrAddSecretAsync(TokenSigningName, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        _inviteKey = await store.GetOrAddSecretAsync(InviteName, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        _bucketKey = await store.GetOrAddSecretAsync(BucketName, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        _exportKey = await store.GetOrAddSecretAsync(ExportName, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        _joinKey = await store.GetOrAddSecretAsync(JoinName, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        _webhookSealKey = await store.GetOrAddSecretAsync(WebhookSealName, RandomNumberGenerator.GetBytes(32), cancellationToken).ConfigureAwait(false);
        _tokenKey = new SymmetricSecurityKey(token) { KeyId = "tally-1" };
    }
}
