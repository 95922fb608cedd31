using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Tally.Server.Access;

/// <summary>
/// The JWTs Tally itself issues, signed HS256 with <see cref="ServerKeys.TokenKey"/> under the issuer
/// <see cref="Issuer"/>: anonymous voter ids (audience <see cref="VoterAudience"/>, <c>sub</c> = the id) and watch
/// tokens for one private poll (audience <see cref="WatchAudience"/>, claims <c>ws</c> and <c>poll</c>).
/// </summary>
internal sealed class TallyTokens(ServerKeys keys, IOptions<AccessOptions> options, TimeProvider time)
{
    public const string Issuer = "urn:tally";
    public const string VoterAudience = "urn:tally:voter";
    public const string WatchAudience = "urn:tally:watch";
    public const string WorkspaceClaim = "ws";
    public const string PollClaim = "poll";

    /// <summary>The prefix of the voter ids Tally issues, as the engine records them.</summary>
    public const string AnonymousPrefix = "anon:";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>A new anonymous voter: the token to hand over, the voter id it stands for, and when it expires.</summary>
    public (string Token, string VoterId, DateTimeOffset ExpiresAt) IssueAnonymous()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var now = time.GetUtcNow();
        var expires = now + options.Value.AnonymousVoterLifetime;
        var token = Create(VoterAudience, id, now, expires, null);
        return (token, AnonymousPrefix + id, expires);
    }

    /// <summary>A token that lets its holder read one private poll (results and streams) until it expires.</summary>
    public (string Token, DateTimeOffset ExpiresAt) IssueWatch(string workspace, string pollId, TimeSpan lifetime, string actor)
    {
        var now = time.GetUtcNow();
        var expires = now + lifetime;
        var claims = new Dictionary<string, object> { [WorkspaceClaim] = workspace, [PollClaim] = pollId };
        return (Create(WatchAudience, actor, now, expires, claims), expires);
    }

    private string Create(string audience, string subject, DateTimeOffset now, DateTimeOffset expires, Dictionary<string, object>? claims)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims ?? [],
            SigningCredentials = new SigningCredentials(keys.TokenKey, SecurityAlgorithms.HmacSha256),
        };
        descriptor.Claims[JwtRegisteredClaimNames.Sub] = subject;
        return _handler.CreateToken(descriptor);
    }
}
