using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tally.Engine;
using Tally.Server.Contracts;

namespace Tally.Server.Endpoints;

/// <summary>Liveness and readiness.</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithTags("Health").WithSummary("Liveness: the process answers");
        app.MapGet("/readyz", ReadyAsync)
            .WithTags("Health").WithSummary("Readiness: the engine runs and every store it needs answers (each named in checks); durability says what an acknowledged vote survives here");
    }

    private static async Task<JsonHttpResult<HealthResponse>> ReadyAsync(ITallyEngine engine, HealthCheckService health, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5)); // each check has its own 2 s; this bounds the whole
        HealthReport report;
        try
        {
            report = await health.CheckHealthAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            report = new HealthReport(new Dictionary<string, HealthReportEntry>(), TimeSpan.FromSeconds(5));
        }

        var checks = new Dictionary<string, string> { ["engine"] = engine.IsRunning ? "up" : "down" };
        foreach (var (name, entry) in report.Entries)
        {
            checks[name] = entry.Status == HealthStatus.Healthy ? "up" : "down";
        }

        // A degraded store (cluster mode's PostgreSQL: the ledger catches up later) is reported but keeps the node ready.
        var ready = engine.IsRunning && report.Entries.Count > 0 && report.Entries.Values.All(e => e.Status != HealthStatus.Unhealthy);
        return TypedResults.Json(
            new HealthResponse(ready ? "ready" : "unavailable", checks, engine.Durability.Statement),
            TallyJsonContext.Default.HealthResponse,
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
