using Microsoft.AspNetCore.Http.HttpResults;
using Tally.Access;
using Tally.Engine;
using Tally.Events;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary>
/// A presenter's side of Q&amp;A polls: marking a question answered (<see cref="ITallyEngine.MarkAnsweredAsync"/>). Asking and
/// upvoting are votes (<see cref="VoteEndpoints"/>); moderation is a text poll's (<see cref="TextEndpoints"/>).
/// </summary>
internal static class QuestionEndpoints
{
    public static void MapQuestionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/polls/{id}/questions/{voteId}/answered", AnsweredAsync)
            .WithTags("Polls").RequireScope(Scopes.PollsManage)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Mark a shown question of a Q&A poll answered: it stays in the results, marked (polls:manage)");
    }

    private static async Task<Results<Ok<ResultsResponse>, ProblemHttpResult>> AnsweredAsync(string id, string voteId, HttpContext context, ITallyEngine engine, AuditTrail audit)
    {
        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        if (poll.Questions is null)
        {
            return Problems.Validation($"Poll {poll.Id} is not a Q&A poll (kind \"questions\"): it has no questions to mark answered.");
        }

        if (VoteIds.SeqOf(poll.Id, voteId) is not { } seq)
        {
            return Problems.Validation($"{PollRules.Clip(voteId)} is not a vote id of poll {poll.Id} ({poll.Id}-<seq>).");
        }

        var outcome = await engine.MarkAnsweredAsync(poll.Id, seq);
        if (outcome.Value is not { } results)
        {
            return Problems.From(outcome.Rejection!);
        }

        await audit.RecordAsync(ManagementFilter.CallerOf(context), poll.Workspace, "question.answered", poll.Id, VoteIds.Format(poll.Id, seq));
        return TypedResults.Ok(results.ToResultsResponse());
    }
}
