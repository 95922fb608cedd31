using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Hosting;

namespace Tally.Server.Access;

/// <summary>
/// Turns a bearer credential into a <see cref="Caller"/>, the same way for every transport: the operator's root key
/// (compared in constant time), a workspace API key (<c>tly_…</c>: looked up by its id, its secret's hash compared in
/// constant time, refused when revoked or expired), or a JWT (<see cref="TokenValidator"/>). No credential is
/// <see cref="Caller.Nobody"/>; a credential that is not valid is a 401, never treated as none.
/// </summary>
internal sealed class Authenticator
{
    private readonly byte[] _rootHash;
    private readonly AccessDirectory _directory;
    private readonly TokenValidator _tokens;
    private readonly TimeProvider _time;

    public Authenticator(IOptions<TallyServerOptions> server, AccessDirectory directory, TokenValidator tokens, TimeProvider time)
    {
        _rootHash = SHA256.HashData(Encoding.UTF8.GetBytes(server.Value.AdminKey ?? throw new InvalidOperationException("The admin key is not set.")));
        _directory = directory;
        _tokens = tokens;
        _time = time;
    }

    /// <summary>The caller <paramref name="credential"/> (the part after <c>Bearer </c>) speaks for.</summary>
    public async ValueTask<Outcome<Caller>> AuthenticateAsync(string? credential, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(credential))
        {
            return Caller.Nobody;
        }

        if (credential.Length > TokenValidator.MaxTokenLength)
        {
            return Unauthorized("The credential is too long to be a key or a token.");
        }

        // Hashing first makes the comparison's time independent of the key's length as well as its content.
        if (CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(credential)), _rootHash))
        {
            return Caller.Root;
        }

        if (ApiKeySecrets.LooksLikeKey(credential))
        {
            return await AuthenticateKeyAsync(credential, cancellationToken).ConfigureAwait(false);
        }

        return TokenValidator.LooksLikeJwt(credential)
            ? await _tokens.ValidateAsync(credential, cancellationToken).ConfigureAwait(false)
            : Unauthorized("The credential is not a valid admin key, API key or token.");
    }

    /// <summary>The credential of an HTTP request: <c>Authorization: Bearer …</c>, else <c>?access_token=</c> (for EventSource and browsers' WebSockets, which cannot set headers).</summary>
    public static string? CredentialOf(HttpRequest request, out Rejection? malformed)
    {
        malformed = null;
        var header = request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                malformed = Unauthorized("The Authorization header must use the Bearer scheme.");
                return null;
            }

            return header.AsSpan(7).Trim().ToString();
        }

        return request.Query.TryGetValue("access_token", out var token) && token.Count == 1 ? token.ToString() : null;
    }

    /// <summary>Authenticates an HTTP request's credential (see <see cref="CredentialOf"/>).</summary>
    public ValueTask<Outcome<Caller>> AuthenticateAsync(HttpContext context)
    {
        var credential = CredentialOf(context.Request, out var malformed);
        return malformed is not null ? ValueTask.FromResult<Outcome<Caller>>(malformed) : AuthenticateAsync(credential, context.RequestAborted);
    }

    /// <summary>
    /// Authenticates a management request: JWTs through the JwtBearer scheme (<see cref="AccessSetup.JwtScheme"/>), whose token
    /// handler is <see cref="TokenValidator"/>; keys as <see cref="AuthenticateAsync(string?, CancellationToken)"/>.
    /// </summary>
    public async ValueTask<Outcome<Caller>> AuthenticateManagerAsync(HttpContext context)
    {
        var credential = CredentialOf(context.Request, out var malformed);
        if (malformed is not null)
        {
            return malformed;
        }

        if (credential is null || !TokenValidator.LooksLikeJwt(credential) || credential.Length > TokenValidator.MaxTokenLength)
        {
            return await AuthenticateAsync(credential, context.RequestAborted).ConfigureAwait(false);
        }

        var result = await context.AuthenticateAsync(AccessSetup.JwtScheme).ConfigureAwait(false);
        if (result.Principal?.Identity is CallerIdentity identity)
        {
            return identity.Caller;
        }

        // The scheme answers no reason we can show: check again directly for the sentence (the cache makes it cheap).
        var direct = await _tokens.ValidateAsync(credential, context.RequestAborted).ConfigureAwait(false);
        return direct.Rejection ?? Unauthorized("The token is not valid.");
    }

    private async ValueTask<Outcome<Caller>> AuthenticateKeyAsync(string credential, CancellationToken cancellationToken)
    {
        if (!ApiKeySecrets.TryParse(credential, out var id, out var secret))
        {
            return Unauthorized("The API key is not of the form tly_<id>_<secret>.");
        }

        ApiKey? key;
        try
        {
            key = await _directory.FindKeyAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new Rejection(RejectionKind.Unavailable, "API keys cannot be checked now (the access store is not reachable); retry.");
        }

        // The hash is compared even for an unknown id, so the answer takes the same time either way.
        if (!ApiKeySecrets.Matches(secret, key?.SecretHash ?? new byte[32]) || key is null)
        {
            return Unauthorized($"The API key tly_{id} is not valid.");
        }

        if (key.RevokedAt is not null)
        {
            return Unauthorized($"The API key tly_{id} was revoked.");
        }

        if (!key.IsActive(_time.GetUtcNow()))
        {
            return Unauthorized($"The API key tly_{id} has expired.");
        }

        _directory.RecordUse(id);
        return new Caller(CallerKind.ApiKey, key.Workspace, ScopeNames.Expand(key.Scopes), "key:" + id, KeyId: id);
    }

    private static Rejection Unauthorized(string detail) => new(RejectionKind.Unauthorized, detail);
}
