using Npgsql;
using Tally.Cluster.Tests.Infrastructure;
using Tally.Cluster.Webhooks;
using Tally.Testing;
using Tally.Webhooks;

namespace Tally.Cluster.Tests.Webhooks;

/// <summary>The webhook-store specification against the cluster's PostgreSQL: each test on a database of its own.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PostgresWebhookStoreTests(ClusterEngines engines) : WebhookStoreSpecification
{
    private readonly string _database = "webhooks_" + Guid.NewGuid().ToString("N");
    private readonly List<NpgsqlDataSource> _sources = [];

    public override async Task InitializeAsync()
    {
        await using var server = NpgsqlDataSource.Create(engines.Postgres.ConnectionString);
        await using var create = server.CreateCommand("CREATE DATABASE " + _database);
        await create.ExecuteNonQueryAsync().WaitAsync(Timeout);
    }

    public override async Task DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }
    }

    protected override IWebhookStore CreateStore() => new PostgresWebhookStore(DataSource(), "TEST_EVENTS");

    protected override IWebhookStore? Reopen() => new PostgresWebhookStore(DataSource(), "TEST_EVENTS");

    [Fact]
    public async Task Clusters_sharing_a_database_never_see_each_others_endpoints()
    {
        var mine = await OpenAsync(CreateStore());
        var theirs = await OpenAsync(new PostgresWebhookStore(DataSource(), "OTHER_EVENTS"));
        var endpoint = Endpoint("wh_0000000000000001", "acme");
        Assert.True(await Wait(mine.CreateAsync(endpoint, default)));

        Assert.Empty(await Wait(theirs.ListAsync(null, default)));
        Assert.Null(await Wait(theirs.FindAsync("acme", endpoint.Id, default)));
        Assert.False(await Wait(theirs.UpdateAsync(endpoint, default)));
        Assert.False(await Wait(theirs.SetCursorAsync("acme", endpoint.Id, 5, default)));
        Assert.False(await Wait(theirs.DeleteAsync("acme", endpoint.Id, default)));
        Assert.Single(await Wait(mine.ListAsync(null, default)));
    }

    private NpgsqlDataSource DataSource()
    {
        var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(engines.Postgres.ConnectionString) { Database = _database }.ConnectionString);
        _sources.Add(source);
        return source;
    }
}
