using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Tally.Cluster.Hosting;

/// <summary>
/// Cluster readiness for PostgreSQL. It is registered as degraded, not unhealthy, when down: votes are still
/// acknowledged (the log is NATS) and the ledger catches up later, so a load balancer should keep the node.
/// </summary>
internal sealed class PostgresHealthCheck(NpgsqlDataSource data) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = data.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "PostgreSQL does not answer: " + ex.Message);
        }
    }
}
