using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary><c>/v1/workspaces</c>: create and list them (root key), read and change one (its admins), its audit log.</summary>
internal static class WorkspaceEndpoints
{
    public static void MapWorkspaceEndpoints(this IEndpointRouteBuilder app)
    {
        var workspaces = app.MapGroup("/v1/workspaces").WithTags("Workspaces");
        workspaces.MapPost("/", CreateAsync).RequireRoot()
            .DocumentJsonBody<CreateWorkspaceRequest>()
            .Produces<WorkspaceResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Create a workspace (root key only)");
        workspaces.MapGet("/", ListAsync).RequireRoot()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("List every workspace (root key only)");
        workspaces.MapGet("/{workspace}", GetAsync).RequireScope(Scopes.Admin)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read a workspace (its admins; `current` is the credential's own)");
        workspaces.MapMethods("/{workspace}", [HttpMethods.Patch], UpdateAsync).RequireScope(Scopes.Admin)
            .DocumentJsonBody<UpdateWorkspaceRequest>()
            .Produces<WorkspaceResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Rename a workspace or replace its settings (JWT issuer, allowed origins, embedders)");
        workspaces.MapGet("/{workspace}/audit", AuditAsync).RequireScope(Scopes.Admin)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read a workspace's audit log, newest first");
    }

    private static async Task<Results<Created<WorkspaceResponse>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, AccessDirectory directory, AuditTrail audit, TimeProvider time, IOptions<TallyServerOptions> server, IOptions<AccessOptions> access)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.CreateWorkspaceRequest, server.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        if (!WorkspaceIds.IsValid(body!.Id))
        {
            errors["id"] = [$"id is 1 to {WorkspaceIds.MaxLength} lowercase letters, digits and inner hyphens."];
        }

        var name = WorkspaceRules.Name(body.Name, body.Id ?? string.Empty, errors);
        var settings = WorkspaceRules.Settings(body.Settings, access.Value.JwksRequireHttps, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation("The workspace is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
        }

        var workspace = new Workspace(body.Id!, name!, Milliseconds(time.GetUtcNow()), settings!);
        switch (await directory.Store.CreateWorkspaceAsync(workspace, request.HttpContext.RequestAborted))
        {
            case AccessWrite.IdTaken:
                return Problems.Conflict("workspace-exists", "The workspace exists", $"There is a workspace {workspace.Id} already.");
            case AccessWrite.IssuerTaken:
                return IssuerTaken();
        }

        directory.Invalidate();
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), workspace.Id, "workspace.created", workspace.Id, workspace.Name);
        return TypedResults.Created($"/v1/workspaces/{workspace.Id}", workspace.ToResponse());
    }

    private static async Task<Ok<WorkspaceListResponse>> ListAsync(AccessDirectory directory, CancellationToken cancellationToken) =>
        TypedResults.Ok(new WorkspaceListResponse([.. (await directory.Store.ListWorkspacesAsync(cancellationToken)).Select(w => w.ToResponse())]));

    private static async Task<Results<Ok<WorkspaceResponse>, ProblemHttpResult>> GetAsync(HttpContext context, AccessDirectory directory)
    {
        var id = ManagementFilter.WorkspaceOf(context);
        return await directory.Store.FindWorkspaceAsync(id, context.RequestAborted) is { } workspace
            ? TypedResults.Ok(workspace.ToResponse())
            : Problems.NoSuchWorkspace(id);
    }

    private static async Task<Results<Ok<WorkspaceResponse>, ProblemHttpResult>> UpdateAsync(
        HttpRequest request, AccessDirectory directory, AuditTrail audit, IOptions<TallyServerOptions> server, IOptions<AccessOptions> access)
    {
        var id = ManagementFilter.WorkspaceOf(request.HttpContext);
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.UpdateWorkspaceRequest, server.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        if (await directory.Store.FindWorkspaceAsync(id, request.HttpContext.RequestAborted) is not { } current)
        {
            return Problems.NoSuchWorkspace(id);
        }

        var errors = new Dictionary<string, string[]>();
        var name = WorkspaceRules.Name(body!.Name, current.Name, errors);
        var settings = body.Settings is null ? current.Settings : WorkspaceRules.Settings(body.Settings, access.Value.JwksRequireHttps, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation("The workspace is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
        }

        var updated = current with { Name = name!, Settings = settings! };
        switch (await directory.Store.UpdateWorkspaceAsync(updated, request.HttpContext.RequestAborted))
        {
            case AccessWrite.NotFound:
                return Problems.NoSuchWorkspace(id);
            case AccessWrite.IssuerTaken:
                return IssuerTaken();
        }

        directory.Invalidate();
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), id, "workspace.updated", id, body.Settings is null ? "name" : "name, settings");
        return TypedResults.Ok(updated.ToResponse());
    }

    private static async Task<Results<Ok<AuditPageResponse>, ProblemHttpResult>> AuditAsync(HttpContext context, AccessDirectory directory, string? limit, string? cursor)
    {
        if (PollEndpoints.PageSize(limit, out var size) is { } badLimit)
        {
            return badLimit;
        }

        if (PollEndpoints.IdCursor(cursor, out var before) is { } badCursor)
        {
            return badCursor;
        }

        var entries = await directory.Store.ReadAuditAsync(ManagementFilter.WorkspaceOf(context), size + 1, before, context.RequestAborted);
        var next = entries.Count > size ? entries[size - 1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new AuditPageResponse([.. entries.Take(size).Select(e => e.ToResponse())], next));
    }

    private static ProblemHttpResult IssuerTaken() =>
        Problems.Conflict("issuer-taken", "Another workspace trusts this issuer", "A JWT issuer belongs to one workspace (its tokens' iss names the workspace); use another issuer.");

    internal static DateTimeOffset Milliseconds(DateTimeOffset at) => at.AddTicks(-(at.UtcTicks % TimeSpan.TicksPerMillisecond));
}
