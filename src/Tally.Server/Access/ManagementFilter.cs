using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Http;

namespace Tally.Server.Access;

/// <summary>
/// Lets a management request through only with a credential that has <see cref="Scopes"/> <c>scope</c> in the
/// workspace it acts on: the root key (any workspace), a workspace's API key, or a workspace JWT with the scope.
/// The workspace is the route's <c>{workspace}</c> when there is one (<c>current</c>: the credential's own), else the
/// credential's own (the root key's: <c>Tally-Workspace</c>, or <c>default</c>). Another workspace than the
/// credential's is a 404, as if it did not exist. The checked <see cref="Caller"/> is left in the request for the
/// endpoint (<see cref="CallerOf"/>, <see cref="WorkspaceOf"/>).
/// </summary>
/// <param name="rootOnly">Only the operator's root key may (creating and listing workspaces).</param>
internal sealed class ManagementFilter(Scopes scope, bool rootOnly = false) : IEndpointFilter
{
    /// <summary>The route value naming the workspace, in <c>/v1/workspaces/{workspace}/…</c>.</summary>
    public const string WorkspaceRouteValue = "workspace";

    /// <summary>The header with which the root key names the workspace it acts on (default: <c>default</c>).</summary>
    public const string WorkspaceHeader = "Tally-Workspace";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var outcome = await http.RequestServices.GetRequiredService<Authenticator>().AuthenticateManagerAsync(http).ConfigureAwait(false);
        if (outcome.Rejection is { } rejected)
        {
            return HttpAccess.Refuse(http.Response, rejected);
        }

        var caller = outcome.Value!;
        if (caller.Kind == CallerKind.Nobody)
        {
            return HttpAccess.Refuse(http.Response, new Rejection(RejectionKind.Unauthorized, "Send Authorization: Bearer <admin key, API key or token>."));
        }

        if (rootOnly && caller.Kind != CallerKind.Root)
        {
            return HttpAccess.Refuse(http.Response, new Rejection(RejectionKind.Forbidden, "Only the operator's root key (TALLY_ADMIN_KEY) may do this."));
        }

        if (ActingWorkspace(caller, http.Request, out var problem) is not { } workspace)
        {
            return problem;
        }

        if (caller.Kind == CallerKind.Root && workspace != WorkspaceIds.Default
            && await http.RequestServices.GetRequiredService<AccessDirectory>().FindWorkspaceAsync(workspace, http.RequestAborted).ConfigureAwait(false) is null)
        {
            return Problems.NoSuchWorkspace(workspace);
        }

        if (!caller.Has(workspace, scope))
        {
            return HttpAccess.Refuse(http.Response, new Rejection(RejectionKind.Forbidden, $"This needs the {ScopeNames.Format(scope)[0]} scope, which the credential lacks."));
        }

        http.Items[typeof(Caller)] = caller;
        http.Items[WorkspaceHeader] = workspace;
        return await next(context).ConfigureAwait(false);
    }

    /// <summary>The caller the filter checked.</summary>
    public static Caller CallerOf(HttpContext context) => (Caller)context.Items[typeof(Caller)]!;

    /// <summary>The workspace the request acts on: the credential's own, or for the root key the <c>Tally-Workspace</c> header's.</summary>
    public static string WorkspaceOf(HttpContext context) => (string)context.Items[WorkspaceHeader]!;

    private static string? ActingWorkspace(Caller caller, HttpRequest request, out object? problem)
    {
        problem = null;
        if (request.RouteValues.TryGetValue(WorkspaceRouteValue, out var routed) && routed is string path)
        {
            if (path == "current")
            {
                return caller.Workspace ?? WorkspaceIds.Default;
            }

            if (!WorkspaceIds.IsValid(path) || caller.IsOfAnother(path) || (caller.Kind != CallerKind.Root && caller.Workspace is null))
            {
                problem = Problems.NoSuchWorkspace(path);
                return null;
            }

            return path;
        }

        var named = request.Headers[WorkspaceHeader].ToString();
        if (caller.Kind != CallerKind.Root)
        {
            if (named.Length > 0 && named != caller.Workspace)
            {
                problem = HttpAccess.Refuse(request.HttpContext.Response, new Rejection(RejectionKind.Forbidden, $"{WorkspaceHeader} is for the root key; this credential acts on its own workspace."));
                return null;
            }

            return caller.Workspace;
        }

        if (named.Length == 0)
        {
            return WorkspaceIds.Default;
        }

        if (!WorkspaceIds.IsValid(named))
        {
            problem = Problems.Validation($"{WorkspaceHeader} is a workspace id: lowercase letters, digits and inner hyphens, at most {WorkspaceIds.MaxLength}.");
            return null;
        }

        return named;
    }
}

/// <summary>Adds <see cref="ManagementFilter"/> to endpoints.</summary>
internal static class ManagementFilterExtensions
{
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, Scopes scope)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ManagementFilter(scope)).Takes(AccessKind.Manage, scope);

    public static TBuilder RequireRoot<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new ManagementFilter(Scopes.Admin, rootOnly: true)).Takes(AccessKind.Root, Scopes.Admin);
}
