using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary>Voting: one ballot, or a batch of up to 10,000 on any polls.</summary>
internal static class VoteEndpoints
{
    public static void MapVoteEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/polls/{id}/votes", CastAsync)
            .WithTags("Votes")
            .DocumentJsonBody<VoteRequest>()
            .Produces<VoteResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Cast a vote; 201 counted, 200 changed; an Idempotency-Key retry returns the first answer");
        app.MapPost("/v1/votes/batch", CastBatchAsync)
            .WithTags("Votes")
            .DocumentJsonBody<BatchVoteRequest>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Cast up to 10,000 votes on any polls; one result per vote, in order");
    }

    private static async Task<Results<Created<VoteResponse>, Ok<VoteResponse>, ProblemHttpResult>> CastAsync(
        string id,
        HttpRequest request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        ITallyEngine engine,
        IOptions<TallyServerOptions> options,
        VoteLimits rateLimits)
    {
        if (PollRules.CheckPollId(id) is { } noSuchPoll)
        {
            return Problems.From(noSuchPoll); // a string of another shape names no poll: never looked up, echoed clipped
        }

        if ((await engine.FindPollAsync(id, request.HttpContext.RequestAborted)).Rejection is { } refused)
        {
            return PollEndpoints.Refused(id, refused); // before reading the body: the clearest answer for a wrong URL
        }

        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.VoteRequest, options.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.OptionIds is null)
        {
            return Problems.Validation("optionIds is required: an array of option ids.");
        }

        if (await rateLimits.CheckAsync(request.HttpContext.Connection.RemoteIpAddress, 1, request.HttpContext.RequestAborted) is { } limited)
        {
            return limited.ToProblem(request.HttpContext.Response);
        }

        var outcome = await engine.CastVoteAsync(new CastVote(id, body.OptionIds, body.VoterId, idempotencyKey));
        return outcome.Status switch
        {
            VoteStatus.Counted => TypedResults.Created((string?)null, outcome.ToVoteResponse()),
            VoteStatus.Changed => TypedResults.Ok(outcome.ToVoteResponse()),
            _ => Problems.From(outcome.Rejection!),
        };
    }

    private static async Task<Results<Ok<BatchVoteResponse>, ProblemHttpResult>> CastBatchAsync(
        HttpRequest request, ITallyEngine engine, IOptions<TallyServerOptions> options, VoteLimits rateLimits)
    {
        var limits = options.Value;
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.BatchVoteRequest, limits.MaxBatchBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.Votes is not { } items)
        {
            return Problems.Validation("votes is required: an array of {pollId, optionIds, voterId, idempotencyKey?}.");
        }

        if (items.Count > limits.MaxBatchVotes)
        {
            return Problems.BatchTooLarge(items.Count, limits.MaxBatchVotes);
        }

        var votes = new CastVote[items.Count];
        var invalid = new Rejection?[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item?.PollId is null || item.OptionIds is null)
            {
                invalid[i] = new Rejection(RejectionKind.Invalid, $"votes[{i}] needs pollId and optionIds.");
                votes[i] = new CastVote(string.Empty, [], null, null);
                continue;
            }

            if (PollRules.CheckPollId(item.PollId) is { } noSuchPoll)
            {
                invalid[i] = noSuchPoll;
                votes[i] = new CastVote(string.Empty, [], null, null);
                continue;
            }

            votes[i] = new CastVote(item.PollId, item.OptionIds, item.VoterId, item.IdempotencyKey);
        }

        if (await rateLimits.CheckAsync(request.HttpContext.Connection.RemoteIpAddress, items.Count, request.HttpContext.RequestAborted) is { } limited)
        {
            return limited.ToProblem(request.HttpContext.Response); // nothing of the batch was taken
        }

        var outcome = await engine.CastVotesAsync(votes);
        if (outcome.Rejection is { } rejection)
        {
            return Problems.From(rejection);
        }

        var results = new BatchVoteResult[items.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = invalid[i] is { } bad ? VoteOutcome.Rejected(bad).ToBatchResult() : outcome.Value![i].ToBatchResult();
        }

        return TypedResults.Ok(new BatchVoteResponse(results));
    }
}
