namespace Tally.Webhooks;

/// <summary>
/// One signing secret of an endpoint, sealed (encrypted under a server key) before it reaches a store: stores never
/// hold a usable secret. A rotated-out secret keeps signing beside the new one until <see cref="ExpiresAt"/>.
/// </summary>
public sealed record WebhookSecret(byte[] Sealed, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt = null);
