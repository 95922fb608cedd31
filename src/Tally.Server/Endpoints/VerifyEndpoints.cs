using Microsoft.AspNetCore.Http.HttpResults;
using Tally.Engine;
using Tally.Server.Access;
using Tally.Server.Contracts;

namespace Tally.Server.Endpoints;

/// <summary><c>POST /v1/verify</c>: every poll's served results recomputed from the log (<see cref="TallyVerifier"/>); root key only.</summary>
internal static class VerifyEndpoints
{
    public static void MapVerifyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/verify", VerifyAsync).WithTags("Operations").RequireRoot()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithSummary("Recompute every poll's results from the log and compare them with the served ones (root key only)");
    }

    private static async Task<Ok<VerifyResponse>> VerifyAsync(HttpContext context, ITallyEngine engine, AuditTrail audit)
    {
        var report = await TallyVerifier.VerifyAsync(engine, context.RequestAborted);
        await audit.RecordAsync(ManagementFilter.CallerOf(context), Tally.Access.WorkspaceIds.Default, "verify.run", null, $"{report.Polls} polls, {report.DifferenceCount} differences");
        return TypedResults.Ok(new VerifyResponse(
            report.Clean,
            report.Polls,
            report.Events,
            report.DifferenceCount,
            [.. report.Differences.Select(d => new VerifyDifferenceResponse(d.PollId, d.What, d.Served, d.Recomputed))]));
    }
}
