using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary>Moderation of text and Q&amp;A polls: the held answers (questions), and approving or rejecting one (<see cref="ITallyEngine.ModerateAnswerAsync"/>).</summary>
internal static class TextEndpoints
{
    public const int DefaultHeldPage = 50;
    public const int MaxHeldPage = 1000;

    public static void MapTextEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/polls/{id}/answers", HeldAsync).WithTags("Polls").RequireScope(Scopes.PollsManage)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("A moderated text poll's held answers (a Q&A poll's questions), oldest first (polls:manage; ?limit= 1 to 1000, default 50)");
        foreach (var (verb, approve) in new[] { ("approve", true), ("reject", false) })
        {
            app.MapPost("/v1/polls/{id}/answers/{voteId}/" + verb, (string id, string voteId, HttpContext context, ITallyEngine engine, AuditTrail audit) => ModerateAsync(id, voteId, approve, context, engine, audit))
                .WithTags("Polls").RequireScope(Scopes.PollsManage)
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
                .WithName("Answer" + (approve ? "Approve" : "Reject"))
                .WithSummary(approve ? "Approve a held answer: it counts from now on (polls:manage)" : "Reject a held answer: it never counts (polls:manage)");
        }
    }

    private static async Task<Results<Ok<HeldAnswersResponse>, ProblemHttpResult>> HeldAsync(string id, HttpContext context, ITallyEngine engine, [FromQuery] string? limit)
    {
        var size = DefaultHeldPage;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxHeldPage))
        {
            return Problems.InvalidQuery($"limit is a whole number from 1 to {MaxHeldPage}.");
        }

        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        var held = await engine.GetHeldAnswersAsync(poll.Id, size, context.RequestAborted);
        var results = await engine.GetResultsAsync(poll.Id, context.RequestAborted);
        return held.Value is { } items
            ? TypedResults.Ok(new HeldAnswersResponse(poll.Id, results.Value?.Text?.Held ?? results.Value?.Questions?.Held ?? items.Count, [.. items.Select(h => new HeldAnswerResponse(Tally.Events.VoteIds.Format(poll.Id, h.Seq), h.Text, h.Terms, h.At))]))
            : Problems.From(held.Rejection!);
    }

    private static async Task<Results<Ok<ResultsResponse>, ProblemHttpResult>> ModerateAsync(string id, string voteId, bool approve, HttpContext context, ITallyEngine engine, AuditTrail audit)
    {
        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        if (Tally.Events.VoteIds.SeqOf(poll.Id, voteId) is not { } seq)
        {
            return Problems.Validation($"{PollRules.Clip(voteId)} is not a vote id of poll {poll.Id} ({poll.Id}-<seq>).");
        }

        var outcome = await engine.ModerateAnswerAsync(poll.Id, seq, approve);
        if (outcome.Value is not { } results)
        {
            return Problems.From(outcome.Rejection!);
        }

        await audit.RecordAsync(ManagementFilter.CallerOf(context), poll.Workspace, approve ? "answer.approved" : "answer.rejected", poll.Id, $"{poll.Id}-{seq}");
        return TypedResults.Ok(results.ToResultsResponse());
    }
}
