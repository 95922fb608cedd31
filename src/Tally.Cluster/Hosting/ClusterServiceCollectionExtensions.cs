using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NATS.Client.Core;
using Npgsql;
using StackExchange.Redis;
using Tally.Access;
using Tally.Cluster;
using Tally.Cluster.Access;
using Tally.Cluster.Webhooks;
using Tally.Webhooks;
using Tally.Cluster.Engine;
using Tally.Cluster.Hosting;
using Tally.Cluster.ReadModels;
using Tally.Limits;
using Tally.Engine;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers cluster mode (the way SignalR's <c>AddStackExchangeRedis</c> swaps its backplane in).</summary>
public static class ClusterServiceCollectionExtensions
{
    /// <summary>
    /// Makes this process a cluster node: the engine becomes a <see cref="ClusterEngine"/> on NATS JetStream
    /// (replacing any other <see cref="ITallyEngine"/>), with the ledger and the access store (replacing any other
    /// <see cref="IAccessStore"/>) in PostgreSQL, read models and the rate limits' buckets (<see cref="IRateLimiter"/>) in Redis, and
    /// readiness checks named <c>nats</c>, <c>postgres</c> and <c>redis</c>. Settings bind from <c>Tally:Nats</c>
    /// (<c>Url</c>, required), <c>Tally:Postgres</c> (<c>ConnectionString</c>, required), <c>Tally:Redis</c>
    /// (<c>Configuration</c>, required), <c>Tally:Cluster</c> and <c>Tally:Engine</c>, validated at start.
    /// </summary>
    public static IServiceCollection AddTallyCluster(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<NatsOptions>().BindConfiguration("Tally:Nats")
            .Validate(o => o.IsValid(), "Cluster mode needs Tally:Nats:Url, the NATS server's address, e.g. nats://127.0.0.1:4222 (Tally__Nats__Url in the environment).")
            .ValidateOnStart();
        services.AddOptions<PostgresOptions>().BindConfiguration("Tally:Postgres")
            .Validate(o => o.IsValid(), "Cluster mode needs Tally:Postgres:ConnectionString, a PostgreSQL connection string, e.g. Host=127.0.0.1;Port=5432;Username=tally;Database=tally (Tally__Postgres__ConnectionString in the environment).")
            .ValidateOnStart();
        services.AddOptions<RedisOptions>().BindConfiguration("Tally:Redis")
            .Validate(o => o.IsValid(), "Cluster mode needs Tally:Redis:Configuration, the Redis server's address, e.g. 127.0.0.1:6379 (Tally__Redis__Configuration in the environment).")
            .ValidateOnStart();
        services.AddOptions<ClusterOptions>().BindConfiguration("Tally:Cluster").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidation>());
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
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetService<Tally.Metrics.TallyMetrics>()));
        services.AddSingleton<IConnectionMultiplexer>(sp => ConnectionMultiplexer.Connect(sp.GetRequiredService<IOptions<RedisOptions>>().Value.ToOptions()));
        services.AddSingleton(sp => NpgsqlDataSource.Create(sp.GetRequiredService<IOptions<PostgresOptions>>().Value.ConnectionString!));
        services.RemoveAll<ITallyEngine>();
        services.AddSingleton<ITallyEngine>(sp => sp.GetRequiredService<ClusterEngine>());
        services.RemoveAll<IAccessStore>();
        services.AddSingleton<IAccessStore>(sp => new PostgresAccessStore(sp.GetRequiredService<NpgsqlDataSource>()));
        services.RemoveAll<IWebhookStore>();
        services.AddSingleton<IWebhookStore>(sp => new PostgresWebhookStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IOptions<ClusterOptions>>().Value.StreamName));
        services.RemoveAll<IWebhookFeed>();
        services.AddSingleton<IWebhookFeed>(sp => new JetStreamWebhookFeed(
            sp.GetRequiredService<INatsConnection>(), sp.GetRequiredService<IOptions<ClusterOptions>>().Value, sp.GetRequiredService<ClusterEngine>()));
        services.AddHostedService<RedisPresence>();
        services.AddSingleton<IRateLimiter>(sp => new RedisRateLimiter(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
            new InMemoryRateLimiter(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<RateLimitOptions>>().Value.MaxBuckets),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Tally.Cluster")));
        services.AddHealthChecks()
            .AddCheck<NatsHealthCheck>("nats", timeout: TimeSpan.FromSeconds(2))
            .AddCheck<PostgresHealthCheck>("postgres", failureStatus: HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(2))
            .AddCheck<RedisHealthCheck>("redis", failureStatus: HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(2));
        return services;
    }
}
