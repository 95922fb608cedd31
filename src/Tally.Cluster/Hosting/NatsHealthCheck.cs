using Microsoft.Extensions.Diagnostics.HealthChecks;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Tally.Cluster.Hosting;

/// <summary>Cluster readiness for NATS: connected, and JetStream answers.</summary>
internal sealed class NatsHealthCheck(INatsConnection nats) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (nats.ConnectionState != NatsConnectionState.Open)
        {
            return HealthCheckResult.Unhealthy($"NATS is {nats.ConnectionState}.");
        }

        try
        {
            await new NatsJSContext(nats).GetAccountInfoAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy();
        }
        catch (NatsException ex)
        {
            return HealthCheckResult.Unhealthy("JetStream does not answer: " + ex.Message);
        }
    }
}
