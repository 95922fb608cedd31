using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary>Voting: one ballot, or a batch of up to 10,000 on any polls. Both go through <see cref="VoteAdmission"/>.</summary>
internal static class VoteEndpoints
{
    public static void MapVoteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/polls/{id}/votes", CastAsync)
            .WithTags("Votes")
            .Takes(AccessKind.Vote)
            .DocumentJsonBody<VoteRequest>()
            .Produces<VoteResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Cast a vote as the poll's voter identity says; 201 counted, 200 changed; an Idempotency-Key retry returns the first answer");
        app.MapPost("/v1/votes/batch", CastBatchAsync)
            .WithTags("Votes")
            .Takes(AccessKind.Vote)
            .DocumentJsonBody<BatchVoteRequest>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Cast up to 10,000 votes on any polls; one result per vote, in order");
    }

    private static async Task<Results<Created<VoteResponse>, Ok<VoteResponse>, ProblemHttpResult>> CastAsync(
        string id,
        HttpRequest request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ITallyEngine engine,
        VoteAdmission admission,
        IOptions<TallyServerOptions> options)
    {
        if (!PollRules.IsPollId(id))
        {
            return PollEndpoints.NotFound(id); // before reading the body: the clearest answer for a wrong URL
        }

        if ((await engine.FindPollAsync(id, request.HttpContext.RequestAborted)).Rejection is { } refused)
        {
            return PollEndpoints.Refused(id, refused);
        }

        var visitor = await HttpAccess.VisitorAsync(request.HttpContext);
        if (visitor.Rejection is { } unauthenticated)
        {
            return HttpAccess.Refuse(request.HttpContext.Response, unauthenticated);
        }

        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.VoteRequest, options.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        // optionIds, or value on a rating or nps poll: which one the poll takes is the admission's to say (PollRules.ResolveChoice).
        var outcome = await admission.CastAsync(visitor.Value!, new Ballot(id, body!.OptionIds, body.VoterId, body.InviteCode, idempotencyKey, body.Value, body.Text, body.Upvote), request.HttpContext.RequestAborted);
        return outcome.Status switch
        {
            VoteStatus.Counted => TypedResults.Created((string?)null, outcome.ToVoteResponse()),
            VoteStatus.Changed => TypedResults.Ok(outcome.ToVoteResponse()),
            _ => HttpAccess.Refuse(request.HttpContext.Response, outcome.Rejection!),
        };
    }

    private static async Task<Results<Ok<BatchVoteResponse>, ProblemHttpResult>> CastBatchAsync(
        HttpRequest request, VoteAdmission admission, IOptions<TallyServerOptions> options)
    {
        var visitor = await HttpAccess.VisitorAsync(request.HttpContext);
        if (visitor.Rejection is { } unauthenticated)
        {
            return HttpAccess.Refuse(request.HttpContext.Response, unauthenticated);
        }

        var limits = options.Value;
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.BatchVoteRequest, limits.MaxBatchBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Votes is not { } items)
        {
            return Problems.Validation("votes is required: an array of {pollId, optionIds (or value), voterId, idempotencyKey?}.");
        }

        if (items.Count > limits.MaxBatchVotes)
        {
            return Problems.BatchTooLarge(items.Count, limits.MaxBatchVotes);
        }

        var ballots = new Ballot?[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is { PollId: { } pollId } item && (item.OptionIds is not null || item.Value is not null || item.Text is not null || item.Upvote is not null))
            {
                ballots[i] = new Ballot(pollId, item.OptionIds, item.VoterId, item.InviteCode, item.IdempotencyKey, item.Value, item.Text, item.Upvote);
            }
        }

        var outcome = await admission.CastBatchAsync(visitor.Value!, ballots, request.HttpContext.RequestAborted);
        if (outcome.Rejection is { } rejection)
        {
            return HttpAccess.Refuse(request.HttpContext.Response, rejection); // nothing of the batch counted (rate-limited, or no ballot could be taken)
        }

        return TypedResults.Ok(new BatchVoteResponse([.. outcome.Value!.Select(o => o.ToBatchResult())]));
    }
}
