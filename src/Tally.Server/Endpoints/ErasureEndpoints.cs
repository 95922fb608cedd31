using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary><c>POST /v1/polls/{id}/erasures</c>: one voter's ballot erased on request (<see cref="ITallyEngine.EraseVoterAsync"/>).</summary>
internal static class ErasureEndpoints
{
    public static void MapErasureEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/polls/{id}/erasures", EraseAsync).WithTags("Polls").RequireScope(Scopes.PollsManage)
            .DocumentJsonBody<ErasureRequest>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Erase one voter's ballot (polls:manage): it leaves the counts, and exports no longer show the voter");
    }

    private static async Task<IResult> EraseAsync(string id, HttpRequest request, ITallyEngine engine, AuditTrail audit, Microsoft.Extensions.Options.IOptions<Hosting.TallyServerOptions> options)
    {
        var context = request.HttpContext;
        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.ErasureRequest, options.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        if (body!.VoterId is not { } raw)
        {
            return Problems.Validation("voterId is required: the voter whose ballot to erase.");
        }

        if (PollRules.CheckVoterId(raw, out var voterId) is { } bad)
        {
            return Problems.Validation(bad);
        }

        var outcome = await engine.EraseVoterAsync(poll.Id, voterId!);
        if (outcome.Value is not { } erasure)
        {
            return Problems.From(outcome.Rejection!);
        }

        if (erasure.Erased)
        {
            // The audit names the ballot, never the voter: the point is to forget who it was.
            await audit.RecordAsync(ManagementFilter.CallerOf(context), poll.Workspace, "poll.ballot-erased", poll.Id, erasure.VoteId);
        }

        return TypedResults.Ok(new ErasureResponse(poll.Id, erasure.Seq, erasure.Erased, erasure.VoteId));
    }
}
