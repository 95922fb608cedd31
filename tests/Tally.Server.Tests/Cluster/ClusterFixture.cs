using Tally.Testing.Engines;

namespace Tally.Server.Tests.Cluster;

/// <summary>A nats-server with JetStream and a PostgreSQL for the cluster tests that share them; each test runs its nodes in a namespace of its own.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public NatsServer Nats { get; } = new();

    public PostgresServer Postgres { get; } = new();

    public RedisServer Redis { get; } = new();

    public async Task InitializeAsync() => await Task.WhenAll(Nats.StartAsync(), Postgres.StartAsync(), Redis.StartAsync());

    public async Task DisposeAsync()
    {
        await Nats.DisposeAsync();
        await Postgres.DisposeAsync();
        await Redis.DisposeAsync();
    }

    /// <summary>Settings for a node on the shared engines.</summary>
    public Dictionary<string, string> NodeSettings(string cluster, string node) => NodeSettings(Nats.Url, Postgres.ConnectionString, Redis.Configuration, cluster, node);

    /// <summary>Settings for a node of the cluster named <paramref name="cluster"/>: short leases, so a dead node's partitions move within seconds.</summary>
    public static Dictionary<string, string> NodeSettings(string natsUrl, string postgres, string redis, string cluster, string node) => new()
    {
        ["Tally:Mode"] = "cluster",
        ["Tally:Nats:Url"] = natsUrl,
        ["Tally:Postgres:ConnectionString"] = postgres,
        ["Tally:Redis:Configuration"] = redis,
        ["Tally:Cluster:Namespace"] = cluster,
        ["Tally:Cluster:Replicas"] = "1", // one NATS server
        ["Tally:Cluster:AllowFewerReplicas"] = "true",
        ["Tally:Cluster:NodeId"] = node,
        ["Tally:Cluster:Partitions"] = "8",
        ["Tally:Cluster:LeaseTtl"] = "00:00:02",
        ["Tally:Cluster:ForwardTimeout"] = "00:00:10",
    };

    public static string NewClusterName() => "c" + Guid.NewGuid().ToString("N")[..12];
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
