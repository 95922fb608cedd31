using Tally.Testing.Engines;

namespace Tally.Server.Tests.Cluster;

/// <summary>A nats-server with JetStream for the cluster tests that share it; each test runs its nodes in a namespace of its own.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public NatsServer Nats { get; } = new();

    public Task InitializeAsync() => Nats.StartAsync();

    public async Task DisposeAsync() => await Nats.DisposeAsync();

    /// <summary>Settings for a node of the cluster named <paramref name="cluster"/>: short leases, so a dead node's partitions move within seconds.</summary>
    public static Dictionary<string, string> NodeSettings(string natsUrl, string cluster, string node) => new()
    {
        ["Tally:Mode"] = "cluster",
        ["Tally:Nats:Url"] = natsUrl,
        ["Tally:Cluster:Namespace"] = cluster,
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
