using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Faults;

public sealed class RestartTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(new Dictionary<string, string>
    {
        // A small snapshot threshold so the restart exercises snapshot + tail, not only the log.
        ["Tally:Engine:SnapshotEveryEvents"] = "50",
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_restart_preserves_polls_tallies_dedupe_and_idempotency()
    {
        var single = (string)(await _server.Admin.CreatePollAsync(options: 3, allowChange: true))["id"]!;
        var multiple = (string)(await _server.Admin.CreatePollAsync(options: 4, kind: "multiple", dedupe: "none"))["id"]!;
        var closed = (string)(await _server.Admin.CreatePollAsync())["id"]!;
        for (var i = 0; i < 120; i++)
        {
            using var a = await _server.Client.VoteAsync(single, [(i % 3) + 1], "v" + (i % 80), "s" + i);
            using var b = await _server.Client.VoteAsync(multiple, [(i % 4) + 1, ((i + 1) % 4) + 1], null, "m" + i);
        }

        using (await _server.Client.VoteAsync(closed, [1], "x"))
        using (await _server.Admin.PostAsync($"/v1/polls/{closed}/close", null))
        {
        }

        var before = await Task.WhenAll(new[] { single, multiple, closed }.Select(id => _server.Client.ResultsAsync(id)));
        var list = await _server.Admin.GetStringAsync("/v1/polls?limit=10");

        await _server.RestartAsync();

        for (var i = 0; i < before.Length; i++)
        {
            var id = (string)before[i]["pollId"]!;
            Assert.Equal(before[i].ToJsonString(), (await _server.Client.ResultsAsync(id)).ToJsonString());
        }

        Assert.Equal(list, await _server.Admin.GetStringAsync("/v1/polls?limit=10"));

        using var replay = await _server.Client.VoteAsync(single, [1], "v0", "s0");
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(2, (long)(await replay.ReadJsonAsync())["seq"]!);
        using var change = await _server.Client.VoteAsync(single, [2], "v1");
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        using var late = await _server.Client.VoteAsync(closed, [1], "y");
        await ApiClient.AssertProblemAsync(late, HttpStatusCode.Conflict, "poll-closed");
    }
}
