using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary><c>/v1/workspaces/{workspace}/keys</c>: a workspace's API keys, made (the secret shown once), listed and revoked by its admins.</summary>
internal static class KeyEndpoints
{
    public const int MaxKeyNameLength = 100;

    public static void MapKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/workspaces/{workspace}/keys").WithTags("Workspaces").RequireScope(Scopes.Admin);
        keys.MapPost("/", CreateAsync)
            .DocumentJsonBody<CreateKeyRequest>()
            .Produces<CreatedKeyResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Make an API key; the answer is the only time its secret is shown");
        keys.MapGet("/", ListAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("List the workspace's API keys (never their secrets)");
        keys.MapDelete("/{keyId}", RevokeAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Revoke an API key; every node refuses it within a second");
    }

    private static async Task<Results<Created<CreatedKeyResponse>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, AccessDirectory directory, AuditTrail audit, TimeProvider time, IOptions<TallyServerOptions> server)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.CreateKeyRequest, server.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var name = body!.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxKeyNameLength || name.Any(char.IsControl))
        {
            errors["name"] = [$"name is 1 to {MaxKeyNameLength} printable characters: what the key is for."];
        }

        var scopes = Scopes.None;
        if (body.Scopes is not { Count: > 0 } given)
        {
            errors["scopes"] = [$"scopes is a non-empty list of {string.Join(", ", ScopeNames.All)}."];
        }
        else
        {
            for (var i = 0; i < given.Count; i++)
            {
                var scope = ScopeNames.Parse(given[i]);
                if (scope == Scopes.None)
                {
                    errors[$"scopes[{i}]"] = [$"A scope is one of {string.Join(", ", ScopeNames.All)}."];
                }

                scopes |= scope;
            }
        }

        var now = WorkspaceEndpoints.Milliseconds(time.GetUtcNow());
        if (body.ExpiresAt is { } expires && expires <= now)
        {
            errors["expiresAt"] = ["expiresAt must be in the future."];
        }

        if (errors.Count > 0)
        {
            return Problems.Validation("The key is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
        }

        var caller = ManagementFilter.CallerOf(request.HttpContext);
        var workspace = ManagementFilter.WorkspaceOf(request.HttpContext);
        var (id, secret, hash) = ApiKeySecrets.Create();
        var key = new ApiKey(id, workspace, name!, scopes, hash, now, body.ExpiresAt is { } at ? WorkspaceEndpoints.Milliseconds(at.ToUniversalTime()) : null, CreatedBy: caller.Actor);
        await directory.Store.CreateKeyAsync(key, request.HttpContext.RequestAborted);
        directory.Invalidate();
        await audit.RecordAsync(caller, workspace, "key.created", "key:" + id, $"{name} ({string.Join(' ', ScopeNames.Format(scopes))})");
        return TypedResults.Created($"/v1/workspaces/{workspace}/keys/{id}", new CreatedKeyResponse(secret, key.ToResponse()));
    }

    private static async Task<Ok<ApiKeyListResponse>> ListAsync(HttpContext context, AccessDirectory directory) =>
        TypedResults.Ok(new ApiKeyListResponse([.. (await directory.Store.ListKeysAsync(ManagementFilter.WorkspaceOf(context), context.RequestAborted)).Select(k => k.ToResponse())]));

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string keyId, HttpContext context, AccessDirectory directory, AuditTrail audit, TimeProvider time)
    {
        var workspace = ManagementFilter.WorkspaceOf(context);
        if (!ApiKeySecrets.IsKeyId(keyId) || await directory.Store.RevokeKeyAsync(workspace, keyId, time.GetUtcNow(), context.RequestAborted) != AccessWrite.Done)
        {
            return Problems.NoSuchKey(keyId);
        }

        directory.Invalidate();
        await audit.RecordAsync(ManagementFilter.CallerOf(context), workspace, "key.revoked", "key:" + keyId);
        return TypedResults.NoContent();
    }
}
