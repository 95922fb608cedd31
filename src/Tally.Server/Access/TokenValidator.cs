using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Tally.Access;
using Tally.Engine;
using Tally.Polls;

namespace Tally.Server.Access;

/// <summary>
/// Validates the JWTs Tally accepts, with IdentityModel's <see cref="JsonWebTokenHandler"/> (the handler ASP.NET
/// Core's JwtBearer uses; this class is that scheme's token handler, see <see cref="AccessSetup"/>): Tally's own
/// tokens (<see cref="TallyTokens"/>) and those of each workspace's issuer. The token's <c>iss</c> picks the
/// workspace, and only that workspace's keys, audience and algorithms are tried: HS256 for an HMAC secret,
/// RS256 / ES256 for a JWKS URL. Signatures are required (<c>alg: none</c> is refused), and so are <c>exp</c>,
/// a lifetime of at most <see cref="AccessOptions.MaxTokenLifetime"/>, the issuer and the audience. A valid token's
/// caller is kept until the token expires (or access changes), so a token is checked once, not per vote.
/// </summary>
internal sealed class TokenValidator : TokenHandler
{
    /// <summary>Longest token looked at; real ones are well under 2 KB.</summary>
    public const int MaxTokenLength = 8192;

    private static readonly string[] HmacAlgorithms = [SecurityAlgorithms.HmacSha256];
    private static readonly string[] PublicKeyAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];
    private static readonly TimeSpan MaxCacheTime = TimeSpan.FromMinutes(10);

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// About how many tokens <see cref="_cache"/> holds, kept here because <see cref="ConcurrentDictionary{TKey,TValue}.Count"/>
    /// takes every lock of the table (it was 15% of the server's CPU when every vote brought a new token).
    /// </summary>
    private int _cached;

    private readonly ConcurrentDictionary<string, SymmetricSecurityKey> _hmacKeys = new(StringComparer.Ordinal);
    private readonly AccessDirectory _directory;
    private readonly JwksKeys _jwks;
    private readonly ServerKeys _keys;
    private readonly AccessOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public TokenValidator(AccessDirectory directory, JwksKeys jwks, ServerKeys keys, IOptions<AccessOptions> options, TimeProvider time, ILogger<TokenValidator> logger)
    {
        _directory = directory;
        _jwks = jwks;
        _keys = keys;
        _options = options.Value;
        _time = time;
        _logger = logger;
        directory.Changed += ClearCache; // an issuer's keys, audience or workspace may have changed
    }

    /// <summary>True when <paramref name="credential"/> has a JWT's shape (three dot-separated parts).</summary>
    public static bool LooksLikeJwt(string credential) => credential.AsSpan().Count('.') == 2; // vectorised: a LINQ count over the chars was ~10% of a cached-token vote's CPU

    /// <summary>The caller the token speaks for, or why it is not accepted (401; 503 when its issuer's keys cannot be fetched now).</summary>
    public async ValueTask<Outcome<Caller>> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (_cache.TryGetValue(token, out var hit))
        {
            if (hit.Until > _time.GetUtcNow())
            {
                return hit.Caller;
            }

            if (_cache.TryRemove(token, out _))
            {
                Interlocked.Decrement(ref _cached);
            }
        }

        var (result, rejection) = await ValidateCoreAsync(token, cancellationToken).ConfigureAwait(false);
        if (rejection is not null)
        {
            return rejection;
        }

        var identity = (CallerIdentity)result!.ClaimsIdentity;
        if (_options.TokenCacheSize > 0)
        {
            if (Volatile.Read(ref _cached) >= _options.TokenCacheSize)
            {
                ClearCache(); // bounded: the next uses validate again
            }

            var until = result.SecurityToken.ValidTo;
            var cap = _time.GetUtcNow() + MaxCacheTime;
            if (_cache.TryAdd(token, new Cached(identity.Caller, until < cap.UtcDateTime ? new DateTimeOffset(until, TimeSpan.Zero) : cap)))
            {
                Interlocked.Increment(ref _cached);
            }
        }

        return identity.Caller;
    }

    /// <summary>One key object per workspace secret: IdentityModel caches its signature providers per key object.</summary>
    private SymmetricSecurityKey HmacKey(string secret) =>
        _hmacKeys.GetOrAdd(secret, static s => new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(s)));

    private void ClearCache()
    {
        _hmacKeys.Clear();
        _cache.Clear();
        Volatile.Write(ref _cached, 0); // adds racing the clear may leave it a little low: the bound is approximate
    }

    /// <summary>As JwtBearer's token handler: the same checks, the principal's identity a <see cref="CallerIdentity"/>.</summary>
    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var (result, rejection) = await ValidateCoreAsync(token, CancellationToken.None).ConfigureAwait(false);
        return result is { IsValid: true } ? result : new TokenValidationResult { IsValid = false, Exception = new SecurityTokenValidationException(rejection!.Detail) };
    }

    private async Task<(TokenValidationResult? Result, Rejection? Rejection)> ValidateCoreAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length > MaxTokenLength || !_handler.CanReadToken(token))
        {
            return (null, Unauthorized("The bearer token is not a JWT."));
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException or FormatException)
        {
            return (null, Unauthorized("The bearer token is not a well-formed JWT."));
        }

        var issuer = jwt.Issuer;
        Workspace? workspace = null;
        TokenValidationParameters parameters;
        if (issuer == TallyTokens.Issuer)
        {
            parameters = Parameters(TallyTokens.Issuer, [TallyTokens.VoterAudience, TallyTokens.WatchAudience], HmacAlgorithms, [_keys.TokenKey]);
        }
        else
        {
            workspace = string.IsNullOrEmpty(issuer) ? null : await _directory.FindWorkspaceByIssuerAsync(issuer, cancellationToken).ConfigureAwait(false);
            if (workspace?.Settings.Jwt is not { } settings)
            {
                return (null, Unauthorized("The token's issuer is not one any workspace trusts."));
            }

            var audience = settings.Audience ?? _options.DefaultAudience;
            if (settings.HmacSecret is { } secret)
            {
                parameters = Parameters(settings.Issuer, [audience], HmacAlgorithms, [HmacKey(secret)]);
                parameters.TryAllIssuerSigningKeys = true; // one key: a token may name it by any kid, or none
            }
            else if (settings.JwksUrl is { } url)
            {
                ICollection<SecurityKey> keys;
                try
                {
                    keys = await _jwks.GetAsync(settings.Issuer, url, refresh: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException)
                {
                    AccessLog.JwksUnavailable(_logger, Clip(settings.Issuer), ex.Message);
                    return (null, new Rejection(RejectionKind.Unavailable, "The keys of the token's issuer cannot be fetched now; retry."));
                }

                parameters = Parameters(settings.Issuer, [audience], PublicKeyAlgorithms, keys);
            }
            else
            {
                return (null, Unauthorized("The token's workspace accepts no JWTs."));
            }
        }

        var result = await _handler.ValidateTokenAsync(jwt, parameters).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && workspace?.Settings.Jwt?.JwksUrl is { } jwksUrl)
        {
            // A kid we have not seen: the issuer may have rotated its keys. Fetch again (at most every 30 s) and retry once.
            try
            {
                parameters.IssuerSigningKeys = await _jwks.GetAsync(workspace.Settings.Jwt.Issuer, jwksUrl, refresh: true, cancellationToken).ConfigureAwait(false);
                result = await _handler.ValidateTokenAsync(jwt, parameters).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException)
            {
                AccessLog.JwksUnavailable(_logger, Clip(workspace.Settings.Jwt.Issuer), ex.Message);
            }
        }

        if (!result.IsValid)
        {
            return (null, Unauthorized(Describe(result.Exception)));
        }

        var started = jwt.IssuedAt > DateTime.MinValue ? jwt.IssuedAt : jwt.ValidFrom > DateTime.MinValue ? jwt.ValidFrom : _time.GetUtcNow().UtcDateTime;
        if (jwt.ValidTo - started > _options.MaxTokenLifetime + _options.ClockSkew && issuer != TallyTokens.Issuer)
        {
            return (null, Unauthorized($"The token lives longer than {_options.MaxTokenLifetime.TotalHours:0.#} h; issue short-lived tokens."));
        }

        var caller = CallerOf(jwt, workspace);
        if (caller is null)
        {
            return (null, Unauthorized("The token lacks a claim it needs (sub, or a watch token's ws and poll)."));
        }

        result.ClaimsIdentity = new CallerIdentity(result.ClaimsIdentity, caller);
        return (result, null);
    }

    private TokenValidationParameters Parameters(string issuer, string[] audiences, string[] algorithms, IEnumerable<SecurityKey> keys) => new()
    {
        ValidIssuer = issuer,
        ValidAudiences = audiences,
        ValidAlgorithms = algorithms,
        IssuerSigningKeys = keys,
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        ValidateIssuerSigningKey = true,
        ClockSkew = _options.ClockSkew,
        LifetimeValidator = null,
        TryAllIssuerSigningKeys = false, // a JWKS key is tried only under its own kid
    };

    private static Caller? CallerOf(JsonWebToken jwt, Workspace? workspace)
    {
        var subject = jwt.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out var sub) && !string.IsNullOrEmpty(sub) ? sub : null;
        if (workspace is null)
        {
            var audience = jwt.Audiences.FirstOrDefault();
            if (audience == TallyTokens.VoterAudience)
            {
                return subject is null ? null : new Caller(CallerKind.AnonymousVoter, null, Scopes.None, "anonymous-voter", TallyTokens.AnonymousPrefix + subject);
            }

            return jwt.TryGetPayloadValue<string>(TallyTokens.WorkspaceClaim, out var ws) && jwt.TryGetPayloadValue<string>(TallyTokens.PollClaim, out var poll)
                ? new Caller(CallerKind.WatchToken, ws, Scopes.PollsRead, "watch-token:" + Clip(subject ?? "?"), null, [poll])
                : null;
        }

        // Scopes: OAuth's space-separated `scope` (or `scp`), and `role`/`roles` naming the same words; each a string or a
        // list (a list's items come as claims of one type). `poll`: a poll id, or a list of them.
        var scopes = Scopes.None;
        List<string>? polls = null;
        foreach (var claim in jwt.Claims)
        {
            switch (claim.Type)
            {
                case "scope" or "scp" or "role" or "roles":
                    foreach (var name in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        scopes |= ScopeNames.Parse(name);
                    }

                    break;
                case TallyTokens.PollClaim:
                    (polls ??= []).Add(claim.Value);
                    break;
            }
        }

        return new Caller(CallerKind.WorkspaceToken, workspace.Id, ScopeNames.Expand(scopes), "jwt:" + Clip(subject ?? "?"), subject, polls);
    }

    private static string Describe(Exception? failure) => failure switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet (nbf).",
        SecurityTokenNoExpirationException => "The token has no expiry (exp).",
        SecurityTokenInvalidIssuerException => "The token's issuer is not accepted.",
        SecurityTokenInvalidAudienceException => "The token's audience is not this workspace's.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted here (HS256 for a shared secret, RS256 or ES256 for JWKS keys).",
        SecurityTokenSignatureKeyNotFoundException => "The token is signed with a key its issuer does not publish.",
        SecurityTokenInvalidSignatureException => "The token's signature is not valid.",
        SecurityTokenMalformedException => "The token is not a well-formed JWT.",
        _ => "The token is not valid.",
    };

    private static Rejection Unauthorized(string detail) => new(RejectionKind.Unauthorized, detail);

    private static string Clip(string value) => Contracts.ContractMapping.Clip(value);

    private readonly record struct Cached(Caller Caller, DateTimeOffset Until);
}

/// <summary>The identity of a validated token, carrying the <see cref="Access.Caller"/> it maps to.</summary>
internal sealed class CallerIdentity : ClaimsIdentity
{
    public CallerIdentity(ClaimsIdentity claims, Caller caller)
        : base(claims) => Caller = caller;

    private CallerIdentity(CallerIdentity other)
        : base(other) => Caller = other.Caller;

    public Caller Caller { get; }

    public override ClaimsIdentity Clone() => new CallerIdentity(this);
}
