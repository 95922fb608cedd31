using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tally.Server.Tests.Security;

/// <summary>
/// A host app's token issuer, as a test plays it: an issuer name, an audience, and a signing key (an HS256 secret,
/// or an RSA / EC key published in a JWKS). Tokens are made with IdentityModel, as a host app in C# would.
/// </summary>
public sealed class TestIssuer
{
    private readonly SigningCredentials _credentials;

    private TestIssuer(string issuer, string audience, SigningCredentials credentials, JsonObject? jwk)
    {
        Issuer = issuer;
        Audience = audience;
        _credentials = credentials;
        Jwk = jwk;
    }

    public string Issuer { get; }

    public string Audience { get; }

    /// <summary>The public key as a JWK, for a JWKS issuer; null for HS256.</summary>
    public JsonObject? Jwk { get; }

    public string? HmacSecret { get; private init; }

    public static TestIssuer Hmac(string issuer, string audience = "tally", string? secret = null)
    {
        secret ??= Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        return new TestIssuer(issuer, audience, new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256), null)
        {
            HmacSecret = secret,
        };
    }

    public static TestIssuer Rsa(string issuer, string kid, string audience = "tally")
    {
        var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["kid"] = kid,
            ["use"] = "sig",
            ["alg"] = "RS256",
            ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
            ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
        };
        return new TestIssuer(issuer, audience, new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = kid }, SecurityAlgorithms.RsaSha256), jwk);
    }

    public static TestIssuer Ecdsa(string issuer, string kid, string audience = "tally")
    {
        var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var parameters = ec.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "EC",
            ["kid"] = kid,
            ["use"] = "sig",
            ["alg"] = "ES256",
            ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(parameters.Q.X),
            ["y"] = Base64UrlEncoder.Encode(parameters.Q.Y),
        };
        return new TestIssuer(issuer, audience, new SigningCredentials(new ECDsaSecurityKey(ec) { KeyId = kid }, SecurityAlgorithms.EcdsaSha256), jwk);
    }

    /// <summary>A token for <paramref name="subject"/>; by default valid for 10 minutes from now.</summary>
    public string Token(
        string subject,
        TimeSpan? lifetime = null,
        DateTimeOffset? notBefore = null,
        string? issuer = null,
        string? audience = null,
        string? poll = null,
        string? scope = null)
    {
        var now = DateTimeOffset.UtcNow;
        var from = notBefore ?? now.AddSeconds(-5);
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience ?? Audience,
            IssuedAt = from.UtcDateTime,
            NotBefore = from.UtcDateTime,
            Expires = (from + (lifetime ?? TimeSpan.FromMinutes(10))).UtcDateTime,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object> { ["sub"] = subject },
        };
        if (poll is not null)
        {
            descriptor.Claims["poll"] = poll;
        }

        if (scope is not null)
        {
            descriptor.Claims["scope"] = scope;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>A valid token for <paramref name="subject"/> with one more claim.</summary>
    public static string WithClaim(TestIssuer issuer, string subject, string claim, object value)
    {
        var now = DateTimeOffset.UtcNow.AddSeconds(-5);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer.Issuer,
            Audience = issuer.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddMinutes(10).UtcDateTime,
            SigningCredentials = issuer._credentials,
            Claims = new Dictionary<string, object> { ["sub"] = subject, [claim] = value },
        });
    }

    /// <summary>The same claims with <c>alg: none</c> and no signature.</summary>
    public static string Unsigned(string token)
    {
        var parts = token.Split('.');
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""");
        return $"{header}.{parts[1]}.";
    }

    /// <summary>The token with its payload's <c>sub</c> changed and the signature kept.</summary>
    public static string Tampered(string token, string subject)
    {
        var parts = token.Split('.');
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!.AsObject();
        payload["sub"] = subject;
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload.ToJsonString())}.{parts[2]}";
    }
}
