using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Tally.Engine;
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
        var admin = polls.MapGroup(string.Empty).AddEndpointFilter<AdminKeyFilter>();

        admin.MapPost("/", CreateAsync)
            .DocumentJsonBody<CreatePollRequest>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Create a poll (admin)");
        admin.MapGet("/", ListAsync)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .WithSummary("List polls, newest first (admin)");
        admin.MapPost("/{id}/close", CloseAsync)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Close a poll (admin); later votes get 409");
        polls.MapGet("/{id}", GetAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read a poll");
        polls.MapGet("/{id}/results", ResultsAsync)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read a poll's current results");
    }

    private static async Task<Results<Created<PollResponse>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, ITallyEngine engine, IOptions<TallyServerOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.CreatePollRequest, options.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var command = body!.ToCommand(out var errors);
        if (command is null)
        {
            return Problems.Validation("The poll is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
        }

        var outcome = await engine.CreatePollAsync(command);
        return outcome.Rejection is { } rejection
            ? Problems.From(rejection)
            : TypedResults.Created($"/v1/polls/{outcome.Value!.Poll.Id}", outcome.Value.ToPollResponse());
    }

    private static async Task<Results<Ok<PollListResponse>, ProblemHttpResult>> ListAsync(ITallyEngine engine, [FromQuery] string? limit, [FromQuery] string? cursor, CancellationToken cancellationToken)
    {
        var size = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxPageSize))
        {
            return Problems.InvalidQuery($"limit is a whole number from 1 to {MaxPageSize}.");
        }

        var page = await engine.ListPollsAsync(size, cursor, cancellationToken);
        return page.Rejection switch
        {
            { Kind: Polls.RejectionKind.Invalid } invalid => Problems.InvalidQuery(invalid.Detail),
            { } rejection => Problems.From(rejection),
            null => TypedResults.Ok(new PollListResponse([.. page.Value!.Items.Select(p => p.ToPollResponse())], page.Value.NextCursor)),
        };
    }

    private static async Task<Results<Ok<PollResponse>, ProblemHttpResult>> GetAsync(string id, ITallyEngine engine, CancellationToken cancellationToken)
    {
        if (Polls.PollRules.CheckPollId(id) is { } noSuchPoll)
        {
            return Problems.From(noSuchPoll);
        }

        var found = await engine.GetResultsAsync(id, cancellationToken);
        return found.Value is { } results ? TypedResults.Ok(results.ToPollResponse()) : Refused(id, found.Rejection!);
    }

    private static async Task<Results<Ok<ResultsResponse>, ProblemHttpResult>> ResultsAsync(string id, ITallyEngine engine, CancellationToken cancellationToken)
    {
        if (Polls.PollRules.CheckPollId(id) is { } noSuchPoll)
        {
            return Problems.From(noSuchPoll);
        }

        var found = await engine.GetResultsAsync(id, cancellationToken);
        return found.Value is { } results ? TypedResults.Ok(results.ToResultsResponse()) : Refused(id, found.Rejection!);
    }

    private static async Task<Results<Ok<PollResponse>, ProblemHttpResult>> CloseAsync(string id, ITallyEngine engine)
    {
        if (Polls.PollRules.CheckPollId(id) is { } noSuchPoll)
        {
            return Problems.From(noSuchPoll);
        }

        var outcome = await engine.ClosePollAsync(id);
        return outcome.Rejection is { } rejection ? Problems.From(rejection) : TypedResults.Ok(outcome.Value!.ToPollResponse());
    }

    /// <summary>The answer for a poll the engine could not give: 404 with the id clipped, or what the rejection says (503 while a cluster partition has no owner).</summary>
    internal static ProblemHttpResult Refused(string id, Polls.Rejection rejection) =>
        rejection.Kind == Polls.RejectionKind.UnknownPoll ? NotFound(id) : Problems.From(rejection);

    internal static ProblemHttpResult NotFound(string id) => Problems.From(Polls.PollRules.UnknownPoll(id));
}
