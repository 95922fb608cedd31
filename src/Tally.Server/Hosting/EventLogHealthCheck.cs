using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tally.Storage;

namespace Tally.Server.Hosting;

/// <summary>Embedded mode's readiness: the event log answers.</summary>
internal sealed class EventLogHealthCheck(IEventLog log) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await log.IsHealthyAsync(cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The event log does not answer.");
}
