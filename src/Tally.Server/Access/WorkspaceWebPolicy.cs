using Microsoft.AspNetCore.Cors.Infrastructure;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Security;

namespace Tally.Server.Access;

/// <summary>
/// What browsers on other sites may do, from each workspace's settings: call the API for its polls (CORS, from its
/// <c>allowedOrigins</c>), and frame its polls' pages (CSP <c>frame-ancestors</c>, from its <c>embedders</c>). A
/// request about one poll (<c>/v1/polls/{id}…</c>, <c>/polls/{id}</c>) gets that poll's workspace's lists; any other
/// request the lists of every workspace together (a batch may vote on polls of many). Nothing is allowed by default.
/// </summary>
internal sealed class WorkspaceWebPolicy(ITallyEngine engine, AccessDirectory directory) : ICorsPolicyProvider, IFrameAncestors
{
    private static readonly string[] Methods = ["GET", "POST", "PATCH", "DELETE"];
    private static readonly string[] Headers = ["Authorization", "Content-Type", "Idempotency-Key", ManagementFilter.WorkspaceHeader, "Last-Event-ID"];
    private static readonly string[] Exposed = ["Location", "Retry-After", "RateLimit", "RateLimit-Policy"];

    public async Task<CorsPolicy?> GetPolicyAsync(HttpContext context, string? policyName)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || !context.Request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
        {
            return null;
        }

        var allowed = await AllowedOriginsAsync(context, static settings => settings.AllowedOrigins).ConfigureAwait(false);
        var normal = WorkspaceRules.Normalize(origin);
        if (normal is null || !OriginPolicy.Contains(allowed, normal))
        {
            return null; // no CORS headers: the browser keeps the page from reading the answer (and from sending a preflighted request)
        }

        // The exact origin, with credentials: a browser sends its anonymous voter cookie to the API it votes on.
        var policy = new CorsPolicyBuilder().WithOrigins(origin).WithMethods(Methods).WithHeaders(Headers).WithExposedHeaders(Exposed)
            .AllowCredentials().SetPreflightMaxAge(TimeSpan.FromMinutes(10)).Build();
        return policy;
    }

    public async ValueTask<IReadOnlyList<string>> GetAsync(HttpContext context)
    {
        var embedders = await AllowedOriginsAsync(context, static settings => settings.Embedders).ConfigureAwait(false);
        return embedders;
    }

    private async Task<IReadOnlyList<string>> AllowedOriginsAsync(HttpContext context, Func<Tally.Access.WorkspaceSettings, IReadOnlyList<string>> list)
    {
        try
        {
            if (PollOf(context) is { } pollId)
            {
                var poll = await engine.FindPollAsync(pollId, context.RequestAborted).ConfigureAwait(false);
                if (poll.Value is not { } found)
                {
                    return [];
                }

                var workspace = await directory.FindWorkspaceAsync(found.Workspace, context.RequestAborted).ConfigureAwait(false);
                return workspace is null ? [] : list(workspace.Settings);
            }

            var all = await directory.ListWorkspacesAsync(context.RequestAborted).ConfigureAwait(false);
            return [.. all.SelectMany(w => list(w.Settings)).Distinct(StringComparer.Ordinal)];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return []; // the access store is away: allow nothing more than the server's own origin
        }
    }

    /// <summary>
    /// The poll a request is about: its route's <c>{id}</c> (the page's path is rewritten to its file before the
    /// headers go out), else the path's <c>/v1/polls/{id}…</c> or <c>/polls/{id}</c>; null for another path or a malformed id.
    /// </summary>
    internal static string? PollOf(HttpContext context) =>
        context.Request.RouteValues.TryGetValue("id", out var routed) && routed is string id && PollRules.IsPollId(id) ? id : PollOf(context.Request.Path);

    internal static string? PollOf(PathString path)
    {
        var value = path.Value ?? string.Empty;
        var rest = value.StartsWith("/v1/polls/", StringComparison.Ordinal) ? value["/v1/polls/".Length..]
            : value.StartsWith("/polls/", StringComparison.Ordinal) ? value["/polls/".Length..]
            : null;
        if (rest is null)
        {
            return null;
        }

        var end = rest.IndexOf('/', StringComparison.Ordinal);
        var id = end < 0 ? rest : rest[..end];
        return PollRules.IsPollId(id) ? id : null;
    }
}
