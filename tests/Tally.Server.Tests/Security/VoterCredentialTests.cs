using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Voters who cannot be forged, on every voting transport: a new poll counts Tally-issued anonymous voter ids
/// (a voterId in the body is refused, so a loop over voterIds adds nothing); an invite poll counts each minted code
/// once, also when many requests race with one code, and across a restart; a <c>client</c> poll trusts voterIds only
/// from a <c>votes:write</c> caller.
/// </summary>
public sealed class VoterCredentialTests(SecureServer fixture) : IClassFixture<SecureServer>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task A_new_polls_voters_are_anonymous_ids_and_a_loop_over_voter_ids_counts_nothing()
    {
        var poll = await fixture.CreatePollAsync(voterIdentity: null!);
        using (var read = await Server.Client.GetAsync($"/v1/polls/{poll}"))
        {
            Assert.Equal("anonymous", (string?)(await read.ReadJsonAsync())["voterIdentity"]);
        }

        // As a new user would try it: a shell loop with voterId=$i. Every attempt is refused; nothing counts.
        for (var i = 0; i < 20; i++)
        {
            using var forged = await Server.Client.VoteAsync(poll, [1], "voter-" + i);
            await ApiClient.AssertProblemAsync(forged, HttpStatusCode.UnprocessableEntity, "validation");
            using var bare = await Server.Client.PostAsJsonAsync($"/v1/polls/{poll}/votes", new { optionIds = new[] { 1 } });
            await ApiClient.AssertProblemAsync(bare, HttpStatusCode.Unauthorized, "unauthorized");
        }

        Assert.Equal(0, await fixture.TotalAsync(poll));
    }

    [Theory]
    [MemberData(nameof(Transports.Voting), MemberType = typeof(Transports))]
    public async Task An_anonymous_voter_id_votes_once_on_every_transport(Via via)
    {
        var poll = await fixture.CreatePollAsync();
        var voter = await fixture.AnonymousVoterAsync();

        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, via, poll, null));
        Assert.Equal("validation", await Transports.VoteAsync(Server, via, poll, voter, voterId: "me"));
        Assert.Equal("counted", await Transports.VoteAsync(Server, via, poll, voter));
        Assert.Equal("already-voted", await Transports.VoteAsync(Server, via, poll, voter, option: 2));
        Assert.Equal("counted", await Transports.VoteAsync(Server, via, poll, await fixture.AnonymousVoterAsync())); // a new id is a new voter
        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, via, poll, TestIssuer.Tampered(voter, "someone-else")));
    }

    [Fact]
    public async Task The_voters_endpoint_sets_an_http_only_cookie_that_votes_and_keeps_the_id_when_asked_again()
    {
        var poll = await fixture.CreatePollAsync();
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = Server.BaseAddress, Timeout = TestServer.Timeout };

        using var first = await browser.PostAsync("/v1/voters", null);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var setCookie = Assert.Single(first.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", setCookie, StringComparison.OrdinalIgnoreCase);
        var token = (string)(await first.ReadJsonAsync())["voterToken"]!;

        using var again = await browser.PostAsync("/v1/voters", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(token, (string?)(await again.ReadJsonAsync())["voterToken"]);

        using (var vote = await browser.PostAsJsonAsync($"/v1/polls/{poll}/votes", new { optionIds = new[] { 2 } }))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        // The cookie and the token are the same voter.
        Assert.Equal("already-voted", await Transports.VoteAsync(Server, Via.Http, poll, token));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_that_ends_tls_the_voter_cookie_is_secure()
    {
        using var plain = await Server.Client.PostAsync("/v1/voters", null);
        Assert.DoesNotContain("secure", Assert.Single(plain.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);

        using var proxied = new HttpRequestMessage(HttpMethod.Post, "/v1/voters");
        proxied.Headers.Add("X-Forwarded-Proto", "https"); // from loopback: a trusted proxy by default
        proxied.Headers.Add("X-Forwarded-For", "203.0.113.7");
        using var answer = await Server.Client.SendAsync(proxied);
        Assert.Contains("secure", Assert.Single(answer.Headers.GetValues("Set-Cookie")), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Transports.Voting), MemberType = typeof(Transports))]
    public async Task Each_invite_code_votes_once_and_only_on_its_poll(Via via)
    {
        var poll = await fixture.CreatePollAsync(voterIdentity: "invite");
        var other = await fixture.CreatePollAsync(voterIdentity: "invite");
        var codes = await MintAsync(poll, 2);
        var foreign = (await MintAsync(other, 1))[0];

        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, via, poll, null));
        Assert.Equal("forbidden", await Transports.VoteAsync(Server, via, poll, null, inviteCode: foreign));
        Assert.Equal("forbidden", await Transports.VoteAsync(Server, via, poll, null, inviteCode: "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"));
        Assert.Equal("forbidden", await Transports.VoteAsync(Server, via, poll, null, inviteCode: Flip(codes[0])));
        Assert.Equal("validation", await Transports.VoteAsync(Server, via, poll, null, inviteCode: codes[0], voterId: "me"));
        Assert.Equal("counted", await Transports.VoteAsync(Server, via, poll, null, inviteCode: codes[0]));
        Assert.Equal("already-voted", await Transports.VoteAsync(Server, via, poll, null, inviteCode: codes[0], option: 2));
        Assert.Equal("counted", await Transports.VoteAsync(Server, via, poll, null, inviteCode: codes[1].Replace("-", "", StringComparison.Ordinal).ToLowerInvariant()));
        Assert.Equal(2, await fixture.TotalAsync(poll));
    }

    [Fact]
    public async Task One_invite_code_sent_by_many_requests_at_once_counts_once()
    {
        var poll = await fixture.CreatePollAsync(voterIdentity: "invite");
        var code = (await MintAsync(poll, 1))[0];

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Transports.VoteAsync(Server, i % 2 == 0 ? Via.Http : Via.Grpc, poll, null, option: 1 + (i % 3), inviteCode: code)));

        Assert.Equal(1, answers.Count(a => a == "counted"));
        Assert.Equal(39, answers.Count(a => a == "already-voted"));
        Assert.Equal(1, await fixture.TotalAsync(poll));
    }

    [Fact]
    public async Task A_used_invite_code_stays_used_after_the_server_is_killed_and_restarted()
    {
        var data = Directory.CreateTempSubdirectory("tally-invite-").FullName;
        try
        {
            string poll, code, unused;
            await using (var server = await ServerProcess.StartAsync(data))
            {
                poll = (string)(await server.Admin.CreatePollAsync(new { question = "Q?", options = new[] { "a", "b" }, voterIdentity = "invite" }))["id"]!;
                using var minted = await server.Admin.PostAsJsonAsync($"/v1/polls/{poll}/invites", new { count = 2 });
                var codes = (await minted.ReadJsonAsync())["codes"]!.AsArray();
                (code, unused) = ((string)codes[0]!, (string)codes[1]!);
                using var vote = await server.Client.PostAsJsonAsync($"/v1/polls/{poll}/votes", new { optionIds = new[] { 1 }, inviteCode = code });
                Assert.Equal(HttpStatusCode.Created, vote.StatusCode); // acknowledged: durable
                await server.KillAsync(); // SIGKILL: no snapshot, no drain
            }

            await using var restarted = await ServerProcess.StartAsync(data);
            using (var reused = await restarted.Client.PostAsJsonAsync($"/v1/polls/{poll}/votes", new { optionIds = new[] { 2 }, inviteCode = code }))
            {
                await ApiClient.AssertProblemAsync(reused, HttpStatusCode.Conflict, "already-voted");
            }

            // The server's invite key survived too: a code minted before the crash still votes.
            using (var fresh = await restarted.Client.PostAsJsonAsync($"/v1/polls/{poll}/votes", new { optionIds = new[] { 2 }, inviteCode = unused }))
            {
                Assert.Equal(HttpStatusCode.Created, fresh.StatusCode);
            }

            Assert.Equal(2, (long)(await restarted.Client.ResultsAsync(poll))["totalVotes"]!);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Minting_is_for_managers_of_invite_polls_within_bounds()
    {
        var invitePoll = await fixture.CreatePollAsync(voterIdentity: "invite");
        var anonymousPoll = await fixture.CreatePollAsync();

        using (var nobody = await Server.Client.PostAsJsonAsync($"/v1/polls/{invitePoll}/invites", new { count = 1 }))
        {
            await ApiClient.AssertProblemAsync(nobody, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var wrongKind = await Server.Admin.PostAsJsonAsync($"/v1/polls/{anonymousPoll}/invites", new { count = 1 }))
        {
            await ApiClient.AssertProblemAsync(wrongKind, HttpStatusCode.Conflict, "not-an-invite-poll");
        }

        foreach (var count in new[] { 0, -1, 1001 })
        {
            using var bad = await Server.Admin.PostAsJsonAsync($"/v1/polls/{invitePoll}/invites", new { count });
            await ApiClient.AssertProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation");
        }

        var workspace = await fixture.CreateWorkspaceAsync();
        var (otherManager, _) = await fixture.CreateKeyAsync(workspace, ["polls:manage"]);
        using var foreignManager = new HttpRequestMessage(HttpMethod.Post, $"/v1/polls/{invitePoll}/invites") { Content = JsonContent.Create(new { count = 1 }) };
        Transports.Authorize(foreignManager, otherManager);
        using var refused = await Server.Client.SendAsync(foreignManager);
        await ApiClient.AssertProblemAsync(refused, HttpStatusCode.NotFound, "poll-not-found");

        var codes = await MintAsync(invitePoll, 1000);
        Assert.Equal(1000, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$", c));
    }

    [Fact]
    public async Task A_client_poll_trusts_voter_ids_only_from_a_votes_write_caller()
    {
        var workspace = await fixture.CreateWorkspaceAsync();
        var (writer, _) = await fixture.CreateKeyAsync(workspace, ["votes:write"]);
        var (manager, _) = await fixture.CreateKeyAsync(workspace, ["polls:manage"]);
        var poll = await fixture.CreatePollAsync(voterIdentity: "client", credential: manager);

        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, Via.Http, poll, null, voterId: "alice"));
        Assert.Equal("forbidden", await Transports.VoteAsync(Server, Via.Http, poll, manager, voterId: "alice"));
        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, Via.Http, poll, await fixture.AnonymousVoterAsync(), voterId: "alice"));
        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, writer, voterId: "alice"));
        Assert.Equal("already-voted", await Transports.VoteAsync(Server, Via.Http, poll, writer, voterId: "alice"));

        using var batch = new HttpRequestMessage(HttpMethod.Post, "/v1/votes/batch")
        {
            Content = JsonContent.Create(new { votes = new[] { new { pollId = poll, optionIds = new[] { 2 }, voterId = "bob" }, new { pollId = poll, optionIds = new[] { 2 }, voterId = "alice" } } }),
        };
        Transports.Authorize(batch, writer);
        using var answered = await Server.Client.SendAsync(batch);
        var results = (await answered.ReadJsonAsync())["results"]!.AsArray();
        Assert.Equal(["counted", "duplicate"], results.Select(r => (string)r!["status"]!));
        Assert.Equal(2, await fixture.TotalAsync(poll));

        using var anonymousBatch = await Server.Client.PostAsJsonAsync("/v1/votes/batch", new { votes = new[] { new { pollId = poll, optionIds = new[] { 1 }, voterId = "carol" } } });
        var refused = (await anonymousBatch.ReadJsonAsync())["results"]![0]!;
        Assert.Equal("rejected", (string?)refused["status"]);
        Assert.Equal("urn:tally:problem:unauthorized", (string?)refused["error"]!["type"]);
    }

    private async Task<string[]> MintAsync(string poll, int count)
    {
        using var response = await Server.Admin.PostAsJsonAsync($"/v1/polls/{poll}/invites", new { count });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return [.. JsonNode.Parse(text)!["codes"]!.AsArray().Select(c => (string)c!)];
    }

    /// <summary>The code with one character changed: its MAC no longer matches.</summary>
    private static string Flip(string code) => (code[0] == 'A' ? "B" : "A") + code[1..];
}
