using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;
using Tally.Server.Webhooks;
using Tally.Webhooks;

namespace Tally.Server.Endpoints;

/// <summary>
/// <c>/v1/workspaces/{workspace}/webhooks</c>: a workspace's webhook endpoints, made (the signing secret shown once),
/// changed, rotated, disabled and enabled, replayed from a log position, and their delivery logs; by its admins.
/// </summary>
internal static class WebhookEndpoints
{
    public static void MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        var hooks = app.MapGroup("/v1/workspaces/{workspace}/webhooks").WithTags("Webhooks").RequireScope(Scopes.Admin);
        hooks.MapPost("/", CreateAsync)
            .DocumentJsonBody<CreateWebhookRequest>()
            .Produces<WebhookWithSecretResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Add a webhook endpoint; the answer is the only time its signing secret is shown");
        hooks.MapGet("/", ListAsync).WithSummary("List the workspace's webhook endpoints (never their secrets)");
        hooks.MapGet("/{id}", FindAsync).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("One webhook endpoint, with its cursor and state");
        hooks.MapMethods("/{id}", ["PATCH"], UpdateAsync)
            .DocumentJsonBody<UpdateWebhookRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Change an endpoint's URL, event types, description or voter form");
        hooks.MapDelete("/{id}", DeleteAsync).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("Delete an endpoint and its delivery log");
        hooks.MapPost("/{id}/rotate-secret", RotateAsync)
            .Produces<WebhookWithSecretResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Make a new signing secret (shown once); the old one keeps signing beside it for Tally:Webhooks:SecretOverlap");
        hooks.MapPost("/{id}/disable", (string id, HttpContext context, IWebhookStore store, WebhookDispatcher dispatcher, AuditTrail audit, TimeProvider time) =>
            SetEnabledAsync(id, false, context, store, dispatcher, audit, time)).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("Stop delivering (the cursor stays)");
        hooks.MapPost("/{id}/enable", (string id, HttpContext context, IWebhookStore store, WebhookDispatcher dispatcher, AuditTrail audit, TimeProvider time) =>
            SetEnabledAsync(id, true, context, store, dispatcher, audit, time)).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("Deliver again, from the cursor: nothing is skipped");
        hooks.MapPost("/{id}/replay", ReplayAsync)
            .DocumentJsonBody<ReplayWebhookRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Deliver again every event after a log position (same webhook-id as the first time)");
        hooks.MapGet("/{id}/deliveries", DeliveriesAsync)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary($"The endpoint's delivery attempts, newest first, paged by limit and cursor (the last {IWebhookStore.AttemptsKept} are kept)");
    }

    internal static WebhookResponse ToResponse(this WebhookEndpoint e) => new(
        e.Id, e.Workspace, e.Url, WebhookEventTypes.Format(e.Events), e.Description, VotersName(e.Voters), e.Enabled, e.DisabledReason, e.DisabledAt,
        e.Cursor, e.CreatedAt, [.. e.Secrets.Select(s => new WebhookSecretResponse(s.CreatedAt, s.ExpiresAt))]);

    private static async Task<Results<Created<WebhookWithSecretResponse>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, IWebhookStore store, IWebhookFeed feed, WebhookSecrets secrets, WebhookDispatcher dispatcher, AuditTrail audit,
        TimeProvider time, IOptions<TallyServerOptions> server, IOptions<WebhookOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.CreateWebhookRequest, server.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var events = WebhookRules.EventTypes(body!.EventTypes, required: true, errors);
        var voters = WebhookRules.Voters(body.Voters, errors);
        var description = WebhookRules.Description(body.Description, errors);
        if (body.From is not (null or "now" or "start"))
        {
            errors["from"] = ["from is \"now\" (the default: events from now on) or \"start\" (every event the log holds)."];
        }

        var url = WebhookRules.Url(body.Url, options.Value, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation("The webhook is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
        }

        var ct = request.HttpContext.RequestAborted;
        if (await WebhookRules.RefusedHostAsync(url!, options.Value, ct) is { } refused)
        {
            return Problems.WebhookUrlRefused(refused);
        }

        var workspace = ManagementFilter.WorkspaceOf(request.HttpContext);
        if ((await store.ListAsync(workspace, ct)).Count >= options.Value.MaxEndpointsPerWorkspace)
        {
            return Problems.Conflict("too-many-webhooks", "The workspace has as many webhook endpoints as it may", $"A workspace has at most {options.Value.MaxEndpointsPerWorkspace} endpoints; delete one first.");
        }

        var now = WorkspaceEndpoints.Milliseconds(time.GetUtcNow());
        var (text, secret) = secrets.Create(now);
        var cursor = body.From == "start" ? 0 : await feed.ReadHeadAsync(ct);
        var endpoint = new WebhookEndpoint("wh_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), workspace, url!.AbsoluteUri, events, [secret], now, description, voters, Cursor: cursor);
        if (!await store.CreateAsync(endpoint, ct))
        {
            throw new InvalidOperationException("A random webhook id was taken.");
        }

        dispatcher.Refresh();
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), workspace, "webhook.created", "webhook:" + endpoint.Id, $"{url.Host} ({string.Join(' ', WebhookEventTypes.Format(events))})");
        return TypedResults.Created($"/v1/workspaces/{workspace}/webhooks/{endpoint.Id}", new WebhookWithSecretResponse(text, endpoint.ToResponse()));
    }

    private static async Task<Ok<WebhookListResponse>> ListAsync(HttpContext context, IWebhookStore store) =>
        TypedResults.Ok(new WebhookListResponse([.. (await store.ListAsync(ManagementFilter.WorkspaceOf(context), context.RequestAborted)).Select(e => e.ToResponse())]));

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> FindAsync(string id, HttpContext context, IWebhookStore store) =>
        await FindOwnAsync(id, context, store) is { } e ? TypedResults.Ok(e.ToResponse()) : Problems.NoSuchWebhook(id);

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> UpdateAsync(
        string id, HttpRequest request, IWebhookStore store, WebhookDispatcher dispatcher, AuditTrail audit, IOptions<TallyServerOptions> server, IOptions<WebhookOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.UpdateWebhookRequest, server.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var ct = request.HttpContext.RequestAborted;
        if (await FindOwnAsync(id, request.HttpContext, store) is not { } endpoint)
        {
            return Problems.NoSuchWebhook(id);
        }

        var errors = new Dictionary<string, string[]>();
        var changed = endpoint;
        if (body!.EventTypes is not null)
        {
            changed = changed with { Events = WebhookRules.EventTypes(body.EventTypes, required: true, errors) };
        }

        if (body.Voters is not null)
        {
            changed = changed with { Voters = WebhookRules.Voters(body.Voters, errors) };
        }

        if (body.Description is not null)
        {
            changed = changed with { Description = WebhookRules.Description(body.Description, errors) };
        }

        Uri? url = null;
        if (body.Url is not null && (url = WebhookRules.Url(body.Url, options.Value, errors)) is not null)
        {
            changed = changed with { Url = url.AbsoluteUri };
        }

        if (errors.Count > 0)
        {
            return Problems.Validation("The change is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
        }

        if (url is not null && await WebhookRules.RefusedHostAsync(url, options.Value, ct) is { } refused)
        {
            return Problems.WebhookUrlRefused(refused);
        }

        if (!await store.UpdateAsync(changed, ct))
        {
            return Problems.NoSuchWebhook(id);
        }

        dispatcher.Refresh();
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), endpoint.Workspace, "webhook.updated", "webhook:" + id);
        return TypedResults.Ok(changed.ToResponse());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, HttpContext context, IWebhookStore store, WebhookDispatcher dispatcher, AuditTrail audit)
    {
        var workspace = ManagementFilter.WorkspaceOf(context);
        if (!WebhookRules.IsId(id) || !await store.DeleteAsync(workspace, id, context.RequestAborted))
        {
            return Problems.NoSuchWebhook(id);
        }

        dispatcher.Refresh();
        await audit.RecordAsync(ManagementFilter.CallerOf(context), workspace, "webhook.deleted", "webhook:" + id);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<WebhookWithSecretResponse>, ProblemHttpResult>> RotateAsync(
        string id, HttpContext context, IWebhookStore store, WebhookSecrets secrets, WebhookDispatcher dispatcher, AuditTrail audit, TimeProvider time, IOptions<WebhookOptions> options)
    {
        if (await FindOwnAsync(id, context, store) is not { } endpoint)
        {
            return Problems.NoSuchWebhook(id);
        }

        var now = WorkspaceEndpoints.Milliseconds(time.GetUtcNow());
        var overlapEnds = now + options.Value.SecretOverlap;
        var (text, secret) = secrets.Create(now);
        // The old secrets keep signing until the overlap ends (or sooner, if they were ending sooner); at most two old ones stay.
        var kept = endpoint.Secrets
            .Where(s => s.ExpiresAt is not { } x || x > now)
            .Select(s => s with { ExpiresAt = s.ExpiresAt is { } x && x < overlapEnds ? x : overlapEnds })
            .OrderByDescending(s => s.CreatedAt)
            .Take(2);
        var rotated = endpoint with { Secrets = [secret, .. kept] };
        if (!await store.UpdateAsync(rotated, context.RequestAborted))
        {
            return Problems.NoSuchWebhook(id);
        }

        dispatcher.Refresh();
        await audit.RecordAsync(ManagementFilter.CallerOf(context), endpoint.Workspace, "webhook.secret-rotated", "webhook:" + id);
        return TypedResults.Ok(new WebhookWithSecretResponse(text, rotated.ToResponse()));
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> SetEnabledAsync(
        string id, bool enabled, HttpContext context, IWebhookStore store, WebhookDispatcher dispatcher, AuditTrail audit, TimeProvider time)
    {
        if (await FindOwnAsync(id, context, store) is not { } endpoint)
        {
            return Problems.NoSuchWebhook(id);
        }

        var caller = ManagementFilter.CallerOf(context);
        var changed = enabled
            ? endpoint with { Enabled = true, DisabledReason = null, DisabledAt = null }
            : endpoint.Enabled ? endpoint with { Enabled = false, DisabledReason = "disabled by " + caller.Actor, DisabledAt = WorkspaceEndpoints.Milliseconds(time.GetUtcNow()) } : endpoint;
        if (!await store.UpdateAsync(changed, context.RequestAborted))
        {
            return Problems.NoSuchWebhook(id);
        }

        dispatcher.Refresh();
        await audit.RecordAsync(caller, endpoint.Workspace, enabled ? "webhook.enabled" : "webhook.disabled", "webhook:" + id);
        return TypedResults.Ok(changed.ToResponse());
    }

    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> ReplayAsync(
        string id, HttpRequest request, IWebhookStore store, IWebhookFeed feed, WebhookDispatcher dispatcher, AuditTrail audit, IOptions<TallyServerOptions> server)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.ReplayWebhookRequest, server.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var ct = request.HttpContext.RequestAborted;
        if (await FindOwnAsync(id, request.HttpContext, store) is not { } endpoint)
        {
            return Problems.NoSuchWebhook(id);
        }

        var head = await feed.ReadHeadAsync(ct);
        if (body!.AfterPosition is not { } after || after < 0 || after > head)
        {
            return Problems.Validation($"afterPosition is a log position from 0 (every event) to {head} (the last one now).",
                new Dictionary<string, string[]> { ["afterPosition"] = [$"afterPosition is 0 to {head}."] });
        }

        if (!await store.SetCursorAsync(endpoint.Workspace, id, after, ct))
        {
            return Problems.NoSuchWebhook(id);
        }

        dispatcher.Refresh();
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), endpoint.Workspace, "webhook.replayed", "webhook:" + id, $"after position {after}");
        return TypedResults.Ok((endpoint with { Cursor = after }).ToResponse());
    }

    private static async Task<Results<Ok<WebhookAttemptListResponse>, ProblemHttpResult>> DeliveriesAsync(string id, HttpContext context, IWebhookStore store, string? limit, string? cursor)
    {
        if (PollEndpoints.PageSize(limit, out var size) is { } badLimit)
        {
            return badLimit;
        }

        if (PollEndpoints.IdCursor(cursor, out var before) is { } badCursor)
        {
            return badCursor;
        }

        if (await FindOwnAsync(id, context, store) is null)
        {
            return Problems.NoSuchWebhook(id);
        }

        var attempts = await store.ReadAttemptsAsync(id, size + 1, before, context.RequestAborted);
        return TypedResults.Ok(new WebhookAttemptListResponse(
            [.. attempts.Take(size).Select(a => new WebhookAttemptResponse(a.Id, a.MessageId, a.EventType, a.Position, a.Attempt, a.At, a.Status, a.Succeeded, a.DurationMs, a.Error))],
            attempts.Count > size ? attempts[size - 1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null));
    }

    private static async Task<WebhookEndpoint?> FindOwnAsync(string id, HttpContext context, IWebhookStore store) =>
        WebhookRules.IsId(id) ? await store.FindAsync(ManagementFilter.WorkspaceOf(context), id, context.RequestAborted) : null;

    private static string VotersName(WebhookVoters voters) => voters switch
    {
        WebhookVoters.Raw => "raw",
        WebhookVoters.Omitted => "omitted",
        _ => "hashed",
    };
}
