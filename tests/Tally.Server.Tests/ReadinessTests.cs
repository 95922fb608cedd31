using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary><c>/readyz</c> in embedded mode: ready, every check named, and what an acknowledged vote survives here.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readiness_says_every_acknowledged_vote_is_fsynced_by_default()
    {
        await using var server = await TestServer.StartAsync();
        using var ready = await server.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var said = await ready.ReadJsonAsync();
        Assert.Equal(("ready", "up", "up"), ((string?)said["status"], (string?)said["checks"]!["engine"], (string?)said["checks"]!["eventLog"]));
        var durability = (string)said["durability"]!;
        Assert.Contains("synchronous=FULL: every acknowledged vote is fsynced to the WAL before its answer", durability, StringComparison.Ordinal);
        Assert.Contains("an OS crash or power loss", durability, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_says_what_synchronous_normal_gives_up()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Sqlite:Synchronous"] = "NORMAL" });
        using var ready = await server.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
        var durability = (string)(await ready.ReadJsonAsync())["durability"]!;
        Assert.Contains("synchronous=NORMAL", durability, StringComparison.Ordinal);
        Assert.Contains("not an OS crash or power loss", durability, StringComparison.Ordinal);
    }
}
