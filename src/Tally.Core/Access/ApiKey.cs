namespace Tally.Access;

/// <summary>
/// A workspace's API key as stored: never the secret, only its SHA-256 (the secret is 160 random bits, so a
/// plain hash is as strong as a slow one). The key a client sends is <c>tly_{Id}_{secret}</c>; <see cref="Id"/>
/// is what logs and the audit show.
/// </summary>
public sealed record ApiKey(
    string Id,
    string Workspace,
    string Name,
    Scopes Scopes,
    byte[] SecretHash,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt = null,
    DateTimeOffset? LastUsedAt = null,
    string? CreatedBy = null)
{
    /// <summary>True when the key may be used at <paramref name="now"/>: not revoked, not expired.</summary>
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is not { } at || at > now);
}
