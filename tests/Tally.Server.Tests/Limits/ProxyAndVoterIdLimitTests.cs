using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Limits;

/// <summary>Whose <c>X-Forwarded-For</c> is believed (<c>Tally:Proxies:Trusted</c>), and the bucket of anonymous voter ids.</summary>
public sealed class ProxyAndVoterIdLimitTests
{
    private static readonly Dictionary<string, string> TwoVotesAtOnce = new()
    {
        ["Tally:RateLimit:Ip:Rate"] = "0.01",
        ["Tally:RateLimit:Ip:Burst"] = "2",
    };

    [Fact]
    public async Task From_an_address_that_is_not_a_trusted_proxy_X_Forwarded_For_is_ignored_and_the_real_address_is_limited()
    {
        // The test client is on loopback; trusting only another address makes it an ordinary client that forges the header.
        // ASP.NET Core's own switch (ASPNETCORE_FORWARDEDHEADERS_ENABLED, which trusts everyone) does not widen the list.
        var settings = new Dictionary<string, string>(TwoVotesAtOnce)
        {
            ["Tally:Proxies:Trusted"] = "10.9.8.7, 192.168.0.0/16",
            ["ForwardedHeaders_Enabled"] = "true",
        };
        await using var server = await TestServer.StartAsync(settings, realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        foreach (var forged in new[] { "203.0.113.1", "203.0.113.2" })
        {
            using var counted = await LimitRequests.VoteAsync(server, poll, forwardedFor: forged);
            Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        }

        using (var refused = await LimitRequests.VoteAsync(server, poll, forwardedFor: "203.0.113.3"))
        {
            await ApiClient.AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited"); // all three were 127.0.0.1's
        }

        Assert.Equal(2, (long)(await server.Client.ResultsAsync(poll))["totalVotes"]!);
    }

    [Fact]
    public async Task With_no_trusted_proxy_at_all_X_Forwarded_For_is_ignored_too()
    {
        var settings = new Dictionary<string, string>(TwoVotesAtOnce) { ["Tally:Proxies:Trusted"] = "" };
        await using var server = await TestServer.StartAsync(settings, realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        using (var two = await LimitRequests.BatchAsync(server, poll, 2, forwardedFor: "203.0.113.1"))
        {
            Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        }

        using var refused = await LimitRequests.BatchAsync(server, poll, 1, forwardedFor: "203.0.113.2");
        await ApiClient.AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited");
    }

    [Fact]
    public async Task Through_a_chain_of_trusted_proxies_the_client_is_the_first_untrusted_address()
    {
        // loopback (the test, as the last proxy) and 10.0.0.0/8 (a proxy in front of it) are trusted.
        var settings = new Dictionary<string, string>(TwoVotesAtOnce) { ["Tally:Proxies:Trusted:0"] = "127.0.0.0/8", ["Tally:Proxies:Trusted:1"] = "10.0.0.0/8" };
        await using var server = await TestServer.StartAsync(settings, realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;

        // The client forged a first entry; the proxies added the real client, then the front proxy.
        using (var two = await LimitRequests.BatchAsync(server, poll, 2, forwardedFor: "198.51.100.1, 203.0.113.9, 10.1.2.3"))
        {
            Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        }

        using (var sameClient = await LimitRequests.BatchAsync(server, poll, 1, forwardedFor: "198.51.100.2, 203.0.113.9, 10.1.2.4"))
        {
            await ApiClient.AssertProblemAsync(sameClient, (HttpStatusCode)429, "rate-limited"); // 203.0.113.9 again, whatever it forged
        }

        using var otherClient = await LimitRequests.BatchAsync(server, poll, 1, forwardedFor: "203.0.113.10, 10.1.2.3");
        Assert.Equal(HttpStatusCode.OK, otherClient.StatusCode);
    }

    [Fact]
    public async Task New_anonymous_voter_ids_have_their_own_bucket_per_address()
    {
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string> { ["Tally:RateLimit:NewVoters:Rate"] = "0.01", ["Tally:RateLimit:NewVoters:Burst"] = "2" },
            realLimits: true);
        using var browser = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };

        string? cookie = null;
        for (var i = 0; i < 2; i++)
        {
            using var issued = await browser.PostAsync(new Uri("/v1/voters", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            cookie = issued.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
            Assert.StartsWith($"\"new_voter\";r={1 - i};t=", LimitRequests.Header(issued, "RateLimit"), StringComparison.Ordinal);
        }

        using (var refused = await browser.PostAsync(new Uri("/v1/voters", UriKind.Relative), null))
        {
            var problem = await ApiClient.AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("One client address may send 2 new voter ids at once and 0.01 a second after that", (string)problem["detail"]!, StringComparison.Ordinal);
            Assert.InRange(LimitRequests.RetryAfter(refused), 90, 100);
            Assert.Equal("\"new_voter\";q=2;w=200", LimitRequests.Header(refused, "RateLimit-Policy"));
        }

        // A browser that has its id keeps it without taking a token; another address gets one; votes have their own bucket.
        using (var again = new HttpRequestMessage(HttpMethod.Post, "/v1/voters"))
        {
            again.Headers.Add("Cookie", cookie);
            using var kept = await browser.SendAsync(again);
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }

        using (var elsewhere = new HttpRequestMessage(HttpMethod.Post, "/v1/voters"))
        {
            elsewhere.Headers.Add("X-Forwarded-For", "203.0.113.77");
            using var issued = await browser.SendAsync(elsewhere);
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        }

        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        using var vote = await server.Client.VoteAsync(poll, [1], null);
        Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
    }
}
