using Microsoft.AspNetCore.Http.HttpResults;
using Tally.Engine;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary><c>POST /v1/verify</c>: every poll's served results recomputed from the log (<see cref="TallyVerifier"/>); root key only.</summary>
internal static class VerifyEndpoints
{
    public static void MapVerifyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/verify", VerifyAsync).WithTags("Operations").RequireRoot()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Recompute every poll's results from the log and compare them with the served ones (root key only)");
    }

    private static async Task<Results<Ok<VerifyResponse>, ProblemHttpResult>> VerifyAsync(HttpContext context, ITallyEngine engine, AuditTrail audit)
    {
        VerifyReport report;
        try
        {
            report = await TallyVerifier.VerifyAsync(engine, context.RequestAborted);
        }
        catch (VerifyUnavailableException ex)
        {
            return Problems.From(ex.Rejection); // 503 unavailable with Retry-After (a partition changing hands): retry
        }

        await audit.RecordAsync(ManagementFilter.CallerOf(context), Tally.Access.WorkspaceIds.Default, "verify.run", null, $"{report.Polls} polls, {report.DifferenceCount} differences");
        return TypedResults.Ok(new VerifyResponse(
            report.Clean,
            report.Polls,
            report.Events,
            report.DifferenceCount,
            [.. report.Differences.Select(d => new VerifyDifferenceResponse(d.PollId, d.What, d.Served, d.Recomputed))]));
    }
}
