using NATS.Client.Core;
using Npgsql;
using StackExchange.Redis;
using Tally.Cluster.Tests.Infrastructure;
using Tally.Testing.Engines;

namespace Tally.Cluster.Tests;

/// <summary>The engines the cluster tests run on start from Debian's binaries and answer on loopback.</summary>
[Collection(ClusterCollection.Name)]
public sealed class EnginesTests(ClusterEngines engines)
{
    private static readonly TimeSpan Timeout = LocalServer.Timeout;

    [Fact]
    public async Task Nats_answers_and_has_JetStream()
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = engines.Nats.Url });
        await nats.PingAsync().AsTask().WaitAsync(Timeout);
        Assert.True(nats.ServerInfo!.JetStreamAvailable);
    }

    [Fact]
    public async Task Redis_answers()
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(engines.Redis.Configuration).WaitAsync(Timeout);
        Assert.True(await redis.GetDatabase().PingAsync().WaitAsync(Timeout) >= TimeSpan.Zero);
    }

    [Fact]
    public async Task Postgres_answers()
    {
        await using var data = NpgsqlDataSource.Create(engines.Postgres.ConnectionString);
        await using var command = data.CreateCommand("SELECT 1");
        Assert.Equal(1, await command.ExecuteScalarAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_killed_engine_starts_again_on_its_port()
    {
        await using var redis = new RedisServer();
        await redis.StartAsync();
        var port = redis.Port;
        await redis.KillAsync();
        Assert.False(redis.IsRunning);
        await redis.StartAsync();
        Assert.Equal(port, redis.Port);
        Assert.True(redis.IsRunning);
    }
}
