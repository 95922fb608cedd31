using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Security;
using Tally.Testing;

namespace Tally.Server.Tests.Cluster;

using Transports = Tally.Server.Tests.Security.Transports;

/// <summary>
/// Credentials in cluster mode, on two nodes sharing PostgreSQL (keys, workspaces, the server's secrets) and NATS:
/// a key made on one node works on the other, a revocation on one reaches the other within its refresh interval,
/// anonymous voter ids and invite codes minted on one node vote on the other, once.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterAccessTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Keys_voter_ids_and_invite_codes_work_across_nodes_and_a_revocation_reaches_every_node()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(Secure(fixture.NodeSettings(cluster, "a")));
        await using var b = await TestServer.StartAsync(Secure(fixture.NodeSettings(cluster, "b")));

        var workspace = "ws-" + cluster;
        using (var created = await a.Admin.PostAsJsonAsync("/v1/workspaces", new { id = workspace }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using var keyResponse = await a.Admin.PostAsJsonAsync($"/v1/workspaces/{workspace}/keys", new { name = "backend", scopes = new[] { "votes:write", "polls:manage" } });
        var keyBody = await keyResponse.ReadJsonAsync();
        var (key, keyId) = ((string)keyBody["key"]!, (string)keyBody["details"]!["id"]!);

        using var pollRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/polls") { Content = JsonContent.Create(new { question = "Q?", options = new[] { "a", "b" }, voterIdentity = "client" }) };
        Transports.Authorize(pollRequest, key);
        using var pollResponse = await b.Client.SendAsync(pollRequest); // the key, made on a, works on b
        Assert.Equal(HttpStatusCode.Created, pollResponse.StatusCode);
        var poll = (string)(await pollResponse.ReadJsonAsync())["id"]!;
        Assert.Equal("counted", await Transports.VoteAsync(b, Via.Http, poll, key, voterId: "u1"));

        // Revoked through a: b refuses it once it has read the store's version (every 0.5 s by default).
        using (var revoke = await a.Admin.DeleteAsync($"/v1/workspaces/{workspace}/keys/{keyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.Equal("unauthorized", await Transports.VoteAsync(a, Via.Http, poll, key, voterId: "u2"));
        await Eventually.WaitUntilAsync(async () => await Transports.VoteAsync(b, Via.Http, poll, key, voterId: "u2") == "unauthorized");

        // Both nodes sign and check with the same server keys, kept in PostgreSQL.
        var anonymous = (string)(await a.Admin.CreatePollAsync(new { question = "Q?", options = new[] { "a", "b" }, voterIdentity = "anonymous" }))["id"]!;
        using var issued = await a.Client.PostAsync("/v1/voters", null);
        var voter = (string)(await issued.ReadJsonAsync())["voterToken"]!;
        Assert.Equal("counted", await Transports.VoteAsync(b, Via.Http, anonymous, voter));
        Assert.Equal("already-voted", await Transports.VoteAsync(a, Via.Grpc, anonymous, voter));

        var invite = (string)(await b.Admin.CreatePollAsync(new { question = "Q?", options = new[] { "a", "b" }, voterIdentity = "invite" }))["id"]!;
        using var minted = await b.Admin.PostAsJsonAsync($"/v1/polls/{invite}/invites", new { count = 1 });
        var code = (string)(await minted.ReadJsonAsync())["codes"]![0]!;
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Transports.VoteAsync(i % 2 == 0 ? a : b, Via.Http, invite, null, inviteCode: code)));
        Assert.Equal(1, answers.Count(x => x == "counted"));
        Assert.Equal(9, answers.Count(x => x == "already-voted"));
    }

    private static Dictionary<string, string> Secure(Dictionary<string, string> settings)
    {
        settings["Tally:Compatibility:ClientVoterIds"] = "false";
        return settings;
    }
}
