using Microsoft.AspNetCore.Http.HttpResults;
using Tally.Engine;
using Tally.Server.Contracts;
using Tally.Storage;

namespace Tally.Server.Endpoints;

/// <summary>Liveness and readiness.</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithTags("Health").WithSummary("Liveness: the process answers");
        app.MapGet("/readyz", ReadyAsync)
            .WithTags("Health").WithSummary("Readiness: the engine runs and the event log answers");
    }

    private static async Task<JsonHttpResult<HealthResponse>> ReadyAsync(TallyEngine engine, IEventLog log, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        bool logHealthy;
        try
        {
            logHealthy = await log.IsHealthyAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logHealthy = false;
        }

        var checks = new Dictionary<string, string>
        {
            ["engine"] = engine.IsRunning ? "up" : "down",
            ["eventLog"] = logHealthy ? "up" : "down",
        };
        var ready = engine.IsRunning && logHealthy;
        return TypedResults.Json(
            new HealthResponse(ready ? "ready" : "unavailable", checks),
            TallyJsonContext.Default.HealthResponse,
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
