using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

public sealed class ApiWalkthroughTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly TestServer _server = fixture.Server;

    [Fact]
    public async Task Create_vote_and_read_results()
    {
        var poll = await _server.Admin.CreatePollAsync(options: 3);
        var id = (string)poll["id"]!;
        Assert.Equal("open", (string?)poll["status"]);

        using var first = await _server.Client.VoteAsync(id, [2], "alice");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var vote = await first.ReadJsonAsync();
        Assert.Equal("counted", (string?)vote["status"]);
        Assert.Equal(2, (long)vote["seq"]!);

        using var again = await _server.Client.VoteAsync(id, [1], "alice");
        await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "already-voted");

        var results = await _server.Client.ResultsAsync(id);
        Assert.Equal(1, (long)results["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1, [3] = 0 }, ApiClient.Counts(results));
    }
}
