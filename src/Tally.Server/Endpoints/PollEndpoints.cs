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
        admin.MapGet("/", List)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .WithSummary("List polls, newest first (admin)");
        admin.MapPost("/{id}/close", CloseAsync)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Close a poll (admin); later votes get 409");
        polls.MapGet("/{id}", Get)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read a poll");
        polls.MapGet("/{id}/results", Results)
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

    private static Results<Ok<PollListResponse>, ProblemHttpResult> List(ITallyEngine engine, [FromQuery] string? limit, [FromQuery] string? cursor)
    {
        var size = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxPageSize))
        {
            return Problems.InvalidQuery($"limit is a whole number from 1 to {MaxPageSize}.");
        }

        var before = long.MaxValue;
        if (cursor is not null && !TryDecodeCursor(cursor, out before))
        {
            return Problems.InvalidQuery("cursor is not one this server gave out; use nextCursor from a previous page.");
        }

        var page = engine.Catalog.List(size + 1, before);
        var items = page.Take(size).Select(p => p.Results.ToPollResponse()).ToArray();
        var next = page.Count > size ? EncodeCursor(page[size - 1].Position) : null;
        return TypedResults.Ok(new PollListResponse(items, next));
    }

    private static async Task<Results<Ok<PollResponse>, ProblemHttpResult>> Get(string id, ITallyEngine engine, CancellationToken cancellationToken) =>
        await engine.FindPollAsync(id, cancellationToken) is not null && engine.Catalog.FindResults(id) is { } results
            ? TypedResults.Ok(results.ToPollResponse())
            : NotFound(id);

    private static async Task<Results<Ok<ResultsResponse>, ProblemHttpResult>> Results(string id, ITallyEngine engine, CancellationToken cancellationToken) =>
        await engine.FindPollAsync(id, cancellationToken) is not null && engine.Catalog.FindResults(id) is { } results
            ? TypedResults.Ok(results.ToResultsResponse())
            : NotFound(id);

    private static async Task<Results<Ok<PollResponse>, ProblemHttpResult>> CloseAsync(string id, ITallyEngine engine)
    {
        var outcome = await engine.ClosePollAsync(id);
        return outcome.Rejection is { } rejection ? Problems.From(rejection) : TypedResults.Ok(outcome.Value!.ToPollResponse());
    }

    internal static ProblemHttpResult NotFound(string id) =>
        Problems.From(new Polls.Rejection(Polls.RejectionKind.UnknownPoll, $"There is no poll {ContractMapping.Clip(id)}."));

    private static string EncodeCursor(long position) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes("p" + position.ToString(CultureInfo.InvariantCulture))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeCursor(string cursor, out long position)
    {
        position = 0;
        if (cursor.Length is 0 or > 32)
        {
            return false;
        }

        var base64 = cursor.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        Span<byte> bytes = stackalloc byte[32];
        if (!Convert.TryFromBase64String(base64, bytes, out var written) || written < 2 || bytes[0] != (byte)'p')
        {
            return false;
        }

        return long.TryParse(Encoding.ASCII.GetString(bytes[1..written]), NumberStyles.None, CultureInfo.InvariantCulture, out position) && position > 0;
    }
}
