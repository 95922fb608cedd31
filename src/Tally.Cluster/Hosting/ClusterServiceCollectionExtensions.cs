using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Tally.Cluster;
using Tally.Cluster.Engine;
using Tally.Cluster.Hosting;
using Tally.Engine;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers cluster mode (the way SignalR's <c>AddStackExchangeRedis</c> swaps its backplane in).</summary>
public static class ClusterServiceCollectionExtensions
{
    /// <summary>
    /// Makes this process a cluster node: the engine becomes a <see cref="ClusterEngine"/> on NATS JetStream
    /// (replacing any other <see cref="ITallyEngine"/>), with readiness checks named <c>nats</c>. Settings bind
    /// from <c>Tally:Nats</c> (<c>Url</c>, required), <c>Tally:Cluster</c> and <c>Tally:Engine</c>, validated at start.
    /// </summary>
    public static IServiceCollection AddTallyCluster(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<NatsOptions>().BindConfiguration("Tally:Nats")
            .Validate(o => o.IsValid(), "Cluster mode needs Tally:Nats:Url, the NATS server's address, e.g. nats://127.0.0.1:4222 (Tally__Nats__Url in the environment).")
            .ValidateOnStart();
        services.AddOptions<ClusterOptions>().BindConfiguration("Tally:Cluster")
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<INatsConnection>(sp => new NatsConnection(new NatsOpts
        {
            Url = sp.GetRequiredService<IOptions<NatsOptions>>().Value.Url!,
            Name = "tally-" + sp.GetRequiredService<IOptions<ClusterOptions>>().Value.NodeId,
            LoggerFactory = sp.GetRequiredService<ILoggerFactory>(),
            MaxReconnectRetry = -1, // keep trying for as long as the node runs
        }));
        services.AddSingleton(sp => new ClusterEngine(
            sp.GetRequiredService<INatsConnection>(),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
            sp.GetRequiredService<IOptions<TallyEngineOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Tally.Cluster"),
            sp.GetService<Tally.Metrics.TallyMetrics>()));
        services.RemoveAll<ITallyEngine>();
        services.AddSingleton<ITallyEngine>(sp => sp.GetRequiredService<ClusterEngine>());
        services.AddHealthChecks().AddCheck<NatsHealthCheck>("nats", timeout: TimeSpan.FromSeconds(2));
        return services;
    }
}
