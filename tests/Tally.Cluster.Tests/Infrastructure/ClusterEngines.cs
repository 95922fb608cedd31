using Tally.Testing.Engines;

namespace Tally.Cluster.Tests.Infrastructure;

/// <summary>
/// A nats-server, a redis-server and a PostgreSQL of the test run's own, started once for the tests of a
/// collection that share them. Fault tests that stop an engine make their own instance instead.
/// </summary>
public sealed class ClusterEngines : IAsyncLifetime
{
    public NatsServer Nats { get; } = new();

    public RedisServer Redis { get; } = new();

    public PostgresServer Postgres { get; } = new();

    public async Task InitializeAsync() => await Task.WhenAll(Nats.StartAsync(), Redis.StartAsync(), Postgres.StartAsync());

    public async Task DisposeAsync()
    {
        await Nats.DisposeAsync();
        await Redis.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

/// <summary>The tests that share one set of engines.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterEngines>
{
    public const string Name = "cluster engines";
}
