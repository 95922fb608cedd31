using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Tally.Access;
using Tally.Cluster.Access;
using Tally.Cluster.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Cluster.Tests.Access;

/// <summary>The access-store specification against the cluster's PostgreSQL: each test on a database of its own.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PostgresAccessStoreTests(ClusterEngines engines) : AccessStoreSpecification
{
    private readonly string _database = "access_" + Guid.NewGuid().ToString("N");
    private readonly List<NpgsqlDataSource> _sources = [];

    public override async Task InitializeAsync()
    {
        await using var server = NpgsqlDataSource.Create(engines.Postgres.ConnectionString);
        await using var create = server.CreateCommand("CREATE DATABASE " + _database);
        await create.ExecuteNonQueryAsync().WaitAsync(Timeout);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }
    }

    protected override IAccessStore CreateStore() => new PostgresAccessStore(DataSource());

    // Another data source (its own pool), as another node or a restarted one would have.
    protected override IAccessStore? Reopen() => new PostgresAccessStore(DataSource());

    [Fact]
    public async Task Nodes_opening_together_migrate_once_and_share_everything()
    {
        var stores = new[] { CreateStore(), CreateStore(), CreateStore() };

        await Task.WhenAll(stores.Select(s => Task.Run(() => OpenAsync(s)))).WaitAsync(Timeout);
        var secrets = await Task.WhenAll(stores.Select((s, i) => Task.Run(() => s.GetOrAddSecretAsync("signing", TestAccess.Hash("node " + i), default)))).WaitAsync(Timeout);

        Assert.Single(secrets.Select(Convert.ToHexString).Distinct());
        Assert.Equal(AccessWrite.Done, await Wait(stores[0].CreateWorkspaceAsync(TestAccess.Workspace("acme", issuer: "iss"), default)));
        Assert.Equal(AccessWrite.IssuerTaken, await Wait(stores[1].CreateWorkspaceAsync(TestAccess.Workspace("other", issuer: "iss"), default)));
        Assert.Equal(await Wait(stores[0].ReadVersionAsync(default)), await Wait(stores[2].ReadVersionAsync(default)));
    }

    [Fact]
    public void AddTallyCluster_registers_the_postgres_access_store_in_place_of_any_other()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Tally:Postgres:ConnectionString"] = engines.Postgres.ConnectionString })
            .Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddSingleton<IAccessStore, InMemoryAccessStore>()
            .AddTallyCluster();

        Assert.Single(services, d => d.ServiceType == typeof(IAccessStore));
        using var provider = services.BuildServiceProvider();
        Assert.IsType<PostgresAccessStore>(provider.GetRequiredService<IAccessStore>());
    }

    private NpgsqlDataSource DataSource()
    {
        var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(engines.Postgres.ConnectionString) { Database = _database }.ConnectionString);
        _sources.Add(source);
        return source;
    }
}
