namespace Tally.Access;

/// <summary>
/// A workspace's token issuer. Exactly one way to check signatures: an HMAC secret (HS256, for development) or a
/// JWKS URL (RS256 / ES256 keys, fetched, cached and refreshed).
/// </summary>
/// <param name="Issuer">The <c>iss</c> of its tokens; unique across workspaces, so a token's issuer names its workspace.</param>
/// <param name="Audience">The <c>aud</c> its tokens must carry; null accepts the server's default audience (<c>tally</c>).</param>
/// <param name="HmacSecret">The HS256 secret (at least 32 bytes of UTF-8). Stored as given: it must be, to check signatures.</param>
/// <param name="JwksUrl">Where the issuer publishes its public keys.</param>
public sealed record JwtSettings(string Issuer, string? Audience, string? HmacSecret, string? JwksUrl);
