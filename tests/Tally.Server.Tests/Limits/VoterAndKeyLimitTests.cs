using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Security;
using Ways = Tally.Server.Tests.Security.Transports;

namespace Tally.Server.Tests.Limits;

/// <summary>
/// The voter's bucket and the API key's, on HTTP, WebSocket and gRPC, and the <c>RateLimit</c> headers with the default
/// sizes. Small buckets (one token per 100 s) where a test must not see them refill.
/// </summary>
public sealed class VoterAndKeyLimitTests
{
    [Theory]
    [MemberData(nameof(Ways.Voting), MemberType = typeof(Ways))]
    public async Task A_voter_past_its_bucket_is_refused_on_every_transport_while_other_voters_go_on(Via via)
    {
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string> { ["Tally:RateLimit:Voter:Rate"] = "0.01", ["Tally:RateLimit:Voter:Burst"] = "2" },
            realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 3, allowChange: true))["id"]!;

        Assert.Equal("counted", await Ways.VoteAsync(server, via, poll, credential: null, option: 1, voterId: "alice"));
        Assert.Equal("changed", await Ways.VoteAsync(server, via, poll, credential: null, option: 2, voterId: "alice")); // a voter changing their mind
        Assert.Equal("rate-limited", await Ways.VoteAsync(server, via, poll, credential: null, option: 3, voterId: "alice"));
        Assert.Equal("counted", await Ways.VoteAsync(server, via, poll, credential: null, option: 3, voterId: "bob"));

        // The engine's spelling of a voter is the bucket's too: NFC, so the decomposed "é" is the same voter.
        Assert.Equal("counted", await Ways.VoteAsync(server, via, poll, credential: null, option: 1, voterId: "ren\u00e9"));
        Assert.Equal("changed", await Ways.VoteAsync(server, via, poll, credential: null, option: 2, voterId: "rene\u0301"));
        Assert.Equal("rate-limited", await Ways.VoteAsync(server, via, poll, credential: null, option: 3, voterId: "rene\u0301"));

        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 2, [3] = 1 }, ApiClient.Counts(await server.Client.ResultsAsync(poll)));
    }

    [Fact]
    public async Task A_batch_takes_from_each_voters_bucket_and_one_voter_past_it_refuses_the_batch_whole()
    {
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string> { ["Tally:RateLimit:Voter:Rate"] = "0.01", ["Tally:RateLimit:Voter:Burst"] = "2" },
            realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        using (var two = await LimitRequests.BatchAsync(server, poll, 4, voter: i => i < 2 ? "alice" : "v" + i))
        {
            Assert.Equal(HttpStatusCode.OK, two.StatusCode);
            Assert.Equal("\"ip\";q=5000;w=10, \"voter\";q=2;w=200", LimitRequests.Header(two, "RateLimit-Policy"));
            Assert.Equal("\"ip\";r=4996;t=1, \"voter\";r=0;t=200", LimitRequests.Header(two, "RateLimit")); // the voter with the fewest left: alice
        }

        using (var refused = await LimitRequests.BatchAsync(server, poll, 2, voter: i => i == 0 ? "carol" : "alice"))
        {
            var problem = await ApiClient.AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("One voter may send 2 votes at once", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        using (var threeOfOne = await LimitRequests.BatchAsync(server, poll, 3, voter: _ => "dana"))
        {
            var problem = await ApiClient.AssertProblemAsync(threeOfOne, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("3 votes for one voter, and at most 2 fit at once. Send fewer at a time.", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        using (var carol = await server.Client.VoteAsync(poll, [2], "carol"))
        {
            Assert.Equal(HttpStatusCode.Created, carol.StatusCode); // the refused batch took nothing of carol's bucket
        }

        Assert.Equal(5, (long)(await server.Client.ResultsAsync(poll))["totalVotes"]!);
    }

    [Theory]
    [MemberData(nameof(Ways.Voting), MemberType = typeof(Ways))]
    public async Task An_api_key_has_its_own_bucket_in_place_of_its_address_on_every_transport(Via via)
    {
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string>
            {
                ["Tally:Compatibility:ClientVoterIds"] = "false",
                ["Tally:RateLimit:Key:Rate"] = "0.01",
                ["Tally:RateLimit:Key:Burst"] = "3",
                ["Tally:RateLimit:Ip:Rate"] = "0.01",
                ["Tally:RateLimit:Ip:Burst"] = "1",
            },
            realLimits: true);
        var workspace = await CreateWorkspaceAsync(server);
        var writer = await CreateKeyAsync(server, workspace);
        var otherWriter = await CreateKeyAsync(server, workspace);
        var poll = await CreatePollAsync(server, workspace);

        // Three votes for three of the backend's users: past the address's bucket (1), within the key's (3).
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("counted", await Ways.VoteAsync(server, via, poll, writer, voterId: "user-" + i));
        }

        Assert.Equal("rate-limited", await Ways.VoteAsync(server, via, poll, writer, voterId: "user-3"));
        Assert.Equal("counted", await Ways.VoteAsync(server, via, poll, otherWriter, voterId: "user-3")); // another key, another bucket
        Assert.Equal(4, (long)(await server.Admin.ResultsAsync(poll))["totalVotes"]!);
    }

    [Fact]
    public async Task Vote_responses_carry_the_RateLimit_fields_of_the_buckets_they_took_from()
    {
        await using var server = await TestServer.StartAsync(realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;

        using (var vote = await server.Client.VoteAsync(poll, [1], "hdr-voter"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            Assert.Equal("\"ip\";q=5000;w=10, \"voter\";q=20;w=2", LimitRequests.Header(vote, "RateLimit-Policy"));
            Assert.Equal("\"ip\";r=4999;t=1, \"voter\";r=19;t=1", LimitRequests.Header(vote, "RateLimit"));
        }

        // The root key (and any API key) takes from its key's bucket instead of the address's.
        using (var keyed = await server.Admin.VoteAsync(poll, [2], "other-voter"))
        {
            Assert.Equal(HttpStatusCode.Created, keyed.StatusCode);
            Assert.Equal("\"key\";q=40000;w=2, \"voter\";q=20;w=2", LimitRequests.Header(keyed, "RateLimit-Policy"));
        }

        // A vote the engine refuses took its tokens all the same, and says where the client stands.
        using (var again = await server.Client.VoteAsync(poll, [2], "hdr-voter"))
        {
            await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "already-voted");
            Assert.Matches("^\"ip\";r=49\\d\\d;t=1, \"voter\";r=1\\d;t=1$", LimitRequests.Header(again, "RateLimit"));
        }
    }

    private static async Task<string> CreateWorkspaceAsync(TestServer server)
    {
        var id = "ws-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await server.Admin.PostAsJsonAsync("/v1/workspaces", new { id, name = "Limits " + id });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return id;
    }

    private static async Task<string> CreateKeyAsync(TestServer server, string workspace)
    {
        using var response = await server.Admin.PostAsJsonAsync($"/v1/workspaces/{workspace}/keys", new { name = "backend", scopes = new[] { "votes:write" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.ReadJsonAsync())["key"]!;
    }

    private static async Task<string> CreatePollAsync(TestServer server, string workspace)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/polls")
        {
            Content = JsonContent.Create(new { question = "Which one?", options = new[] { "A", "B" }, dedupe = "voter", voterIdentity = "client" }),
        };
        request.Headers.Add("Tally-Workspace", workspace);
        using var response = await LimitRequests.SendAsync(server, request, credential: TestServer.AdminKey);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
    }
}
