using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary><c>/v1/polls</c>: create, list, read, close, results.</summary>
internal static class PollEndpoints
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;

    public static void MapPollEndpoints(this IEndpointRouteBuilder app)
    {
        var polls = app.MapGroup("/v1/polls").WithTags("Polls");

        polls.MapPost("/", CreateAsync).RequireScope(Scopes.PollsManage)
            .DocumentJsonBody<CreatePollRequest>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Create a poll in the caller's workspace (polls:manage)");
        polls.MapGet("/", ListAsync).RequireScope(Scopes.PollsRead)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("List the workspace's polls, newest first (polls:read)");
        polls.MapPost("/{id}/close", CloseAsync).RequireScope(Scopes.PollsManage)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Close a poll (polls:manage); later votes get 409");
        foreach (var (verb, transition, summary) in new[]
        {
            ("open", PollTransition.Open, "Open a draft or scheduled poll now (polls:manage)"),
            ("pause", PollTransition.Pause, "Pause voting on an open poll: votes get 409 poll-not-open until it resumes (polls:manage)"),
            ("resume", PollTransition.Resume, "Resume voting on a paused poll (polls:manage)"),
            ("reopen", PollTransition.Reopen, "Reopen a closed poll made with allowReopen, unless its closesAt has passed or it counted its maxBallots (polls:manage)"),
        })
        {
            polls.MapPost("/{id}/" + verb, (string id, HttpContext context, ITallyEngine engine, AuditTrail audit) => ChangeStatusAsync(id, transition, context, engine, audit))
                .RequireScope(Scopes.PollsManage)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status403Forbidden)
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict)
                .WithName("Poll" + char.ToUpperInvariant(verb[0]) + verb[1..])
                .WithSummary(summary);
        }

        polls.MapGet("/{id}", GetAsync).Takes(AccessKind.Read)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read a poll (a private poll needs a credential of its workspace)");
        polls.MapGet("/{id}/results", ResultsAsync).Takes(AccessKind.Read)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read a poll's current results, as its results visibility allows");
    }

    private static async Task<Results<Created<PollResponse>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, ITallyEngine engine, AuditTrail audit, IOptions<TallyServerOptions> options, IOptions<CompatibilityOptions> compatibility)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.CreatePollRequest, options.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var workspace = ManagementFilter.WorkspaceOf(request.HttpContext);
        var defaultIdentity = compatibility.Value.ClientVoterIds ? VoterIdentity.Client : VoterIdentity.Anonymous;
        var command = body!.ToCommand(workspace, defaultIdentity, out var errors);
        if (command is null)
        {
            return Problems.Validation("The poll is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
        }

        var outcome = await engine.CreatePollAsync(command);
        if (outcome.Rejection is { } rejection)
        {
            return Problems.From(rejection);
        }

        var poll = outcome.Value!.Poll;
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), workspace, "poll.created", poll.Id, ContractMapping.Clip(poll.Question));
        return TypedResults.Created($"/v1/polls/{poll.Id}", outcome.Value.ToPollResponse());
    }

    private static async Task<Results<Ok<PollListResponse>, ProblemHttpResult>> ListAsync(HttpContext context, ITallyEngine engine, [FromQuery] string? limit, [FromQuery] string? cursor)
    {
        if (PageSize(limit, out var size) is { } badLimit)
        {
            return badLimit;
        }

        var page = await engine.ListPollsAsync(ManagementFilter.WorkspaceOf(context), size, cursor, context.RequestAborted);
        return page.Rejection switch
        {
            { Kind: RejectionKind.Invalid } invalid => Problems.InvalidQuery(invalid.Detail),
            { } rejection => Problems.From(rejection),
            null => TypedResults.Ok(new PollListResponse([.. page.Value!.Items.Select(p => p.ToPollResponse())], page.Value.NextCursor)),
        };
    }

    private static async Task<Results<Ok<PollResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, ReadAdmission reads)
    {
        var grant = await ReadAsync(context, reads, id, Reading.Poll);
        return grant.Value is { } read ? TypedResults.Ok(read.Results.ToPollResponse(read.CountsVisible)) : HttpAccess.Refuse(context.Response, grant.Rejection!);
    }

    private static async Task<Results<Ok<ResultsResponse>, ProblemHttpResult>> ResultsAsync(string id, HttpContext context, ReadAdmission reads)
    {
        var grant = await ReadAsync(context, reads, id, Reading.Results);
        return grant.Value is { } read ? TypedResults.Ok(read.Results.ToResultsResponse()) : HttpAccess.Refuse(context.Response, grant.Rejection!);
    }

    private static async Task<Results<Ok<PollResponse>, ProblemHttpResult>> CloseAsync(string id, HttpContext context, ITallyEngine engine, AuditTrail audit)
    {
        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        var outcome = await engine.ClosePollAsync(poll.Id);
        if (outcome.Rejection is { } rejection)
        {
            return Problems.From(rejection);
        }

        await audit.RecordAsync(ManagementFilter.CallerOf(context), poll.Workspace, "poll.closed", poll.Id);
        return TypedResults.Ok(outcome.Value!.ToPollResponse());
    }

    private static async Task<Results<Ok<PollResponse>, ProblemHttpResult>> ChangeStatusAsync(string id, PollTransition transition, HttpContext context, ITallyEngine engine, AuditTrail audit)
    {
        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        var outcome = await engine.ChangePollStatusAsync(poll.Id, transition);
        if (outcome.Rejection is { } rejection)
        {
            return Problems.From(rejection);
        }

        var action = transition switch
        {
            PollTransition.Open => "poll.opened",
            PollTransition.Pause => "poll.paused",
            PollTransition.Resume => "poll.resumed",
            _ => "poll.reopened",
        };
        await audit.RecordAsync(ManagementFilter.CallerOf(context), poll.Workspace, action, poll.Id);
        return TypedResults.Ok(outcome.Value!.ToPollResponse());
    }

    private static async ValueTask<Outcome<ReadGrant>> ReadAsync(HttpContext context, ReadAdmission reads, string id, Reading reading)
    {
        var visitor = await HttpAccess.VisitorAsync(context);
        return visitor.Value is { } known ? await reads.ReadAsync(known, id, reading, context.RequestAborted) : visitor.Rejection!;
    }

    /// <summary>A page's <c>limit</c> query (1 to <see cref="MaxPageSize"/>, default <see cref="DefaultPageSize"/>), or the problem with it.</summary>
    internal static ProblemHttpResult? PageSize(string? limit, out int size)
    {
        size = DefaultPageSize;
        return limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxPageSize)
            ? Problems.InvalidQuery($"limit is a whole number from 1 to {MaxPageSize}.")
            : null;
    }

    /// <summary>A page's <c>cursor</c> (the <c>nextCursor</c> of the page before: the id to read below), or the problem when it is not one.</summary>
    internal static ProblemHttpResult? IdCursor(string? cursor, out long? before)
    {
        before = null;
        if (cursor is null)
        {
            return null;
        }

        if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
        {
            return Problems.InvalidQuery("cursor is a nextCursor from a previous page.");
        }

        before = id;
        return null;
    }

    /// <summary>The answer for a poll the engine could not give: 404 with the id clipped, or what the rejection says (503 while a cluster partition has no owner).</summary>
    internal static ProblemHttpResult Refused(string id, Rejection rejection) =>
        rejection.Kind == RejectionKind.UnknownPoll ? NotFound(id) : Problems.From(rejection);

    internal static ProblemHttpResult NotFound(string id) => Problems.From(PollRules.UnknownPoll(id));
}
