using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Tally.Engine;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary><c>POST /v1/verify</c> and the <c>verify</c> command: every served tally recomputed from the log.</summary>
public sealed class VerifyTests
{
    [Fact]
    public async Task Verify_is_clean_over_every_kind_and_names_a_corrupted_projection_and_the_command_exits_non_zero()
    {
        await using var server = await TestServer.StartAsync();
        var single = (string)(await server.Admin.CreatePollAsync(options: 3, allowChange: true))["id"]!;
        var rating = (string)(await server.Admin.CreatePollAsync(new { question = "Rate", kind = "rating" }))["id"]!;
        var ranking = (string)(await server.Admin.CreatePollAsync(new { question = "Order", kind = "ranking", options = new[] { "A", "B", "C" } }))["id"]!;
        for (var i = 0; i < 20; i++)
        {
            using var a = await server.Client.VoteAsync(single, [1 + (i % 3)], "v" + (i % 12)); // some change their ballot, some are refused
            using var b = await server.Client.PostAsJsonAsync($"/v1/polls/{rating}/votes", new { value = 1 + (i % 5), voterId = "v" + i });
            using var c = await server.Client.VoteAsync(ranking, i % 2 == 0 ? [1, 2, 3] : [3, 2], "v" + i);
        }

        using (await server.Admin.PostAsync($"/v1/polls/{rating}/close", null))
        {
        }

        // A ranking poll's results are published at most every 250 ms: wait until they show its 20 ballots.
        await Tally.Testing.Eventually.WaitUntilAsync(async () => (long)(await server.Client.ResultsAsync(ranking))["seq"]! == 21, TestServer.Timeout);

        var clean = await VerifyAsync(server);
        Assert.True((bool)clean["ok"]!, clean.ToJsonString());
        Assert.True((long)clean["polls"]! >= 3);
        Assert.True((long)clean["events"]! >= 3 + 20 + 20 + 12 + 1);
        var (exitCode, output) = await ServerProcess.VerifyAsync(server.BaseAddress);
        Assert.True(exitCode == 0, output);

        // Corrupt the served projection of one poll (its log is untouched): verify names the poll and the figure.
        var engine = server.Services.GetRequiredService<ITallyEngine>();
        var served = engine.Catalog.FindResults(single)!;
        engine.Catalog.Publish(served with { Counts = [served.Counts[0] + 5, served.Counts[1], served.Counts[2]] }, createdPosition: 0);

        var dirty = await VerifyAsync(server);
        Assert.False((bool)dirty["ok"]!);
        Assert.Equal(1, (long)dirty["differenceCount"]!);
        var difference = dirty["differences"]![0]!;
        Assert.Equal((single, "option 1"), ((string)difference["pollId"]!, (string)difference["what"]!));
        Assert.Equal((served.Counts[0] + 5).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)difference["served"]);
        (exitCode, output) = await ServerProcess.VerifyAsync(server.BaseAddress);
        Assert.True(exitCode == 1, output);
        Assert.Contains($"poll {single}: option 1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_root_key_verifies()
    {
        await using var server = await TestServer.StartAsync();

        using var anonymous = await server.Client.PostAsync("/v1/verify", null);

        await ApiClient.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
    }

    private static async Task<System.Text.Json.Nodes.JsonObject> VerifyAsync(TestServer server)
    {
        using var response = await server.Admin.PostAsync("/v1/verify", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }
}
