using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Results visibility on every read path and stream (HTTP results, SSE, WebSocket subscribe in JSON and
/// MessagePack, gRPC Watch), not only on the page: <c>afterClose</c> hides counts until the close, <c>never</c>
/// from everyone but the workspace's readers, <c>afterVote</c> from whoever has not voted. The poll itself stays
/// readable, without its total.
/// </summary>
public sealed class VisibilityTests(SecureServer fixture) : IClassFixture<SecureServer>
{
    private TestServer Server => fixture.Server;

    [Theory]
    [MemberData(nameof(Transports.Watching), MemberType = typeof(Transports))]
    public async Task After_close_results_are_hidden_until_the_poll_closes(Via via)
    {
        var poll = await fixture.CreatePollAsync(resultsVisibility: "afterClose");
        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, await fixture.AnonymousVoterAsync()));

        Assert.Equal("results-hidden", await Transports.WatchAsync(Server, via, poll, null));
        Assert.Equal("results-hidden", await Transports.WatchAsync(Server, via, poll, await fixture.AnonymousVoterAsync()));
        Assert.Equal("ok", await Transports.WatchAsync(Server, via, poll, TestServer.AdminKey));
        await AssertNoTotalAsync(poll);

        using (var close = await Server.Admin.PostAsync($"/v1/polls/{poll}/close", null))
        {
            close.EnsureSuccessStatusCode();
        }

        Assert.Equal("ok", await Transports.WatchAsync(Server, via, poll, null));
    }

    [Theory]
    [MemberData(nameof(Transports.Watching), MemberType = typeof(Transports))]
    public async Task Never_shown_results_are_for_the_workspaces_readers_only_even_after_the_close(Via via)
    {
        var workspace = await fixture.CreateWorkspaceAsync();
        var (reader, _) = await fixture.CreateKeyAsync(workspace, ["polls:read"]);
        var (writer, _) = await fixture.CreateKeyAsync(workspace, ["votes:write"]);
        var poll = await fixture.CreatePollAsync(resultsVisibility: "never", workspaceHeader: workspace);
        using (var close = await Server.Admin.PostAsync($"/v1/polls/{poll}/close", null))
        {
            close.EnsureSuccessStatusCode();
        }

        Assert.Equal("results-hidden", await Transports.WatchAsync(Server, via, poll, null));
        Assert.Equal("results-hidden", await Transports.WatchAsync(Server, via, poll, writer));
        Assert.Equal("ok", await Transports.WatchAsync(Server, via, poll, reader));
    }

    [Theory]
    [MemberData(nameof(Transports.Watching), MemberType = typeof(Transports))]
    public async Task After_vote_results_are_shown_to_a_voter_once_they_voted(Via via)
    {
        var poll = await fixture.CreatePollAsync(resultsVisibility: "afterVote");
        var voter = await fixture.AnonymousVoterAsync();

        Assert.Equal("results-hidden", await Transports.WatchAsync(Server, via, poll, voter));
        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, voter));
        Assert.Equal("ok", await Transports.WatchAsync(Server, via, poll, voter));
        Assert.Equal("results-hidden", await Transports.WatchAsync(Server, via, poll, await fixture.AnonymousVoterAsync()));
        Assert.Equal("results-hidden", await Transports.WatchAsync(Server, via, poll, null));
    }

    [Fact]
    public async Task After_vote_needs_voters_the_server_can_recognise_when_they_read()
    {
        foreach (var identity in new[] { "client", "invite" })
        {
            using var bad = await Server.Admin.PostAsync("/v1/polls", Json($$"""{"question":"q","options":["a","b"],"voterIdentity":"{{identity}}","resultsVisibility":"afterVote"}"""));
            var problem = await ApiClient.AssertProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation");
            Assert.NotNull(problem["errors"]?["resultsVisibility"]);
        }
    }

    private async Task AssertNoTotalAsync(string poll)
    {
        var read = await (await Server.Client.GetAsync($"/v1/polls/{poll}")).ReadJsonAsync();
        Assert.False(read.ContainsKey("totalVotes"), read.ToJsonString());
        var admin = await (await Server.Admin.GetAsync($"/v1/polls/{poll}")).ReadJsonAsync();
        Assert.Equal(1, (long)admin["totalVotes"]!);
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
