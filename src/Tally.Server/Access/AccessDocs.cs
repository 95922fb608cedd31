using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Tally.Access;

namespace Tally.Server.Access;

/// <summary>What credential an endpoint takes, as metadata the OpenAPI document reads (<see cref="AccessDocs"/>).</summary>
internal sealed record AccessRequirement(AccessKind Kind, Scopes Scope = Scopes.None);

internal enum AccessKind
{
    /// <summary>A management call: the root key, or a workspace key or JWT with the scope.</summary>
    Manage,

    /// <summary>The operator's root key only.</summary>
    Root,

    /// <summary>A vote: the credential the poll's voter identity needs (a voter token, the anonymous cookie, an invite code in the body, or a votes:write key).</summary>
    Vote,

    /// <summary>A read or a stream: none for public polls, a read credential for private ones.</summary>
    Read,
}

/// <summary>
/// Declares the security schemes in <c>/openapi/v1.json</c> (API keys and the root key, workspace JWTs, voter tokens, the
/// anonymous voter cookie, <c>?access_token=</c>) and, per operation, which of them it takes with which scope.
/// </summary>
internal static class AccessDocs
{
    public const string Key = "tallyKey";
    public const string Jwt = "workspaceJwt";
    public const string Voter = "voterToken";
    public const string Cookie = "voterCookie";
    public const string Query = "accessToken";

    public static TBuilder Takes<TBuilder>(this TBuilder builder, AccessKind kind, Scopes scope = Scopes.None)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRequirement(kind, scope));

    public static void AddAccessDocs(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>(StringComparer.Ordinal);
            var schemes = document.Components.SecuritySchemes;
            schemes[Key] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "`Authorization: Bearer <key>`: the operator's root key (TALLY_ADMIN_KEY: every workspace; `Tally-Workspace` names the one it acts on), or a workspace API key `tly_<id>_<secret>` with scopes polls:read, polls:manage, votes:write, admin.",
            };
            schemes[Jwt] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A JWT signed by a workspace's issuer (HS256 with its secret, or RS256/ES256 with a key from its JWKS): `iss` names the workspace, `aud` is its audience, `exp` is required (at most 24 h after `iat`). `scope` (space-separated) grants scopes; `sub` is the voter on token polls; `poll` limits it to polls.",
            };
            schemes[Voter] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A voter token: on `token` polls one the host app signed (see workspaceJwt); on `anonymous` polls the `voterToken` POST /v1/voters returned.",
            };
            schemes[Cookie] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Cookie,
                Name = VoterIdentities.VoterCookie,
                Description = "The anonymous voter id a browser got from POST /v1/voters (HttpOnly).",
            };
            schemes[Query] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Query,
                Name = "access_token",
                Description = "Any of the bearer credentials, for clients that cannot set headers (EventSource, a browser's WebSocket): a watch token from POST /v1/polls/{id}/watch-tokens for a private poll.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<AccessRequirement>().LastOrDefault() is not { } requirement)
            {
                return Task.CompletedTask;
            }

            var document = context.Document;
            var scope = requirement.Scope == Scopes.None ? [] : ScopeNames.Format(requirement.Scope).Take(1).ToList();
            OpenApiSecurityRequirement One(string scheme, List<string> scopes) => new() { [new OpenApiSecuritySchemeReference(scheme, document)] = scopes };
            operation.Security = requirement.Kind switch
            {
                AccessKind.Root => [One(Key, ["root"])],
                AccessKind.Manage => [One(Key, scope), One(Jwt, scope)],
                AccessKind.Vote => [new OpenApiSecurityRequirement(), One(Voter, []), One(Cookie, []), One(Key, [ScopeNames.VotesWrite]), One(Jwt, [ScopeNames.VotesWrite])],
                _ => [new OpenApiSecurityRequirement(), One(Key, [ScopeNames.PollsRead]), One(Jwt, []), One(Query, []), One(Cookie, [])],
            };
            return Task.CompletedTask;
        });
    }
}
