using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests.Limits;

/// <summary>
/// <c>Tally:RateLimit</c>'s bucket per client address, over HTTP (single and batch), WebSocket and gRPC, with the
/// defaults a deployment gets (on: 5,000 votes at once from one address, then 500 a second) and with small buckets
/// where a test needs them not to refill while it runs.
/// </summary>
public sealed class RateLimitTests
{
    /// <summary>Three votes at once, then one per 100 s: nothing refills while a test runs.</summary>
    private static readonly Dictionary<string, string> ThreeAtOnce = new()
    {
        ["Tally:RateLimit:Ip:Rate"] = "0.01",
        ["Tally:RateLimit:Ip:Burst"] = "3",
    };

    [Fact]
    public async Task By_default_a_burst_from_one_address_gets_429_while_another_clients_votes_and_watchers_go_on()
    {
        await using var server = await TestServer.StartAsync(realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        const string Flooder = "203.0.113.7", Other = "198.51.100.20";
        await using var watcher = await SseClient.ConnectAsync(server.Client, $"/v1/polls/{poll}/events", configure: r => r.Headers.Add("X-Forwarded-For", Other));
        Assert.Equal("snapshot", (await watcher.NextAsync()).Name);

        // A room's worth at once fits the default burst, and the bucket says it is empty.
        using (var room = await LimitRequests.BatchAsync(server, poll, 5_000, Flooder))
        {
            Assert.Equal(HttpStatusCode.OK, room.StatusCode);
            Assert.Equal("\"ip\";q=5000;w=10", LimitRequests.Header(room, "RateLimit-Policy"));
            Assert.Equal("\"ip\";r=0;t=10", LimitRequests.Header(room, "RateLimit"));
        }

        // The same again is past the bucket (it refills at 500 a second): refused whole, with when to retry.
        using (var again = await LimitRequests.BatchAsync(server, poll, 5_000, Flooder))
        {
            var problem = await ApiClient.AssertProblemAsync(again, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("One client address may send 5,000 votes at once and 500 a second after that", (string)problem["detail"]!, StringComparison.Ordinal);
            Assert.InRange(LimitRequests.RetryAfter(again), 1, 10);
            Assert.StartsWith("\"ip\";r=", LimitRequests.Header(again, "RateLimit"), StringComparison.Ordinal);
        }

        // More than a whole bucket can never pass, whoever sends it: the answer says so.
        using (var tooMany = await LimitRequests.BatchAsync(server, poll, 5_001, "192.0.2.99"))
        {
            var problem = await ApiClient.AssertProblemAsync(tooMany, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("Send fewer at a time", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        // Another client behind the same proxy votes, and its watcher sees every counted vote.
        using (var other = await LimitRequests.VoteAsync(server, poll, forwardedFor: Other, option: 2))
        {
            Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        }

        while ((long)(await watcher.NextAsync()).Data["totalVotes"]! < 5_001)
        {
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 5_000, [2] = 1 }, ApiClient.Counts(await server.Client.ResultsAsync(poll)));
    }

    [Fact]
    public async Task A_client_past_its_bucket_gets_429_with_Retry_After_on_every_transport_and_nothing_refused_counts()
    {
        await using var server = await TestServer.StartAsync(ThreeAtOnce, realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        for (var i = 0; i < 3; i++)
        {
            using var counted = await server.Client.VoteAsync(poll, [1], null);
            Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        }

        using (var refused = await server.Client.VoteAsync(poll, [1], null))
        {
            var problem = await ApiClient.AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("One client address may send 3 votes at once and 0.01 a second after that; retry in ", (string)problem["detail"]!, StringComparison.Ordinal);
            Assert.InRange(LimitRequests.RetryAfter(refused), 90, 100); // a token per 100 s, less the time since the first vote
            Assert.Equal("\"ip\";q=3;w=300", LimitRequests.Header(refused, "RateLimit-Policy"));
            Assert.StartsWith("\"ip\";r=0;t=", LimitRequests.Header(refused, "RateLimit"), StringComparison.Ordinal);
        }

        using (var batch = await LimitRequests.BatchAsync(server, poll, 1))
        {
            await ApiClient.AssertProblemAsync(batch, (HttpStatusCode)429, "rate-limited");
        }

        await using (var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json))
        {
            await socket.VoteAsync(poll, [2], "ws-voter", "r1");
            var error = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error");
            Assert.Equal("r1", (string?)error["requestId"]);
            Assert.Equal("urn:tally:problem:rate-limited", (string?)error["error"]!["type"]);
        }

        using (var channel = GrpcChannel.ForAddress(server.GrpcAddress))
        {
            var call = Assert.Throws<RpcException>(() => new LiveClient(channel).Vote(new VoteRequest { PollId = poll, OptionIds = { 2 } }, deadline: DateTime.UtcNow.Add(TestServer.Timeout)));
            Assert.Equal(StatusCode.ResourceExhausted, call.StatusCode);
            Assert.InRange(long.Parse(call.Trailers.GetValue("grpc-retry-pushback-ms")!, System.Globalization.CultureInfo.InvariantCulture), 60_000, 100_000);
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 3, [2] = 0 }, ApiClient.Counts(await server.Client.ResultsAsync(poll)));
        Assert.Equal(4, await PrometheusText.ScrapeAsync(server.Client, "tally_votes_total", ("outcome", "rejected"), ("reason", "rate_limited")));
        Assert.Equal(4, await PrometheusText.ScrapeAsync(server.Client, "tally_limits_refused_total", ("limit", "ip")));
    }

    [Fact]
    public async Task Each_client_behind_a_trusted_proxy_has_its_own_bucket_and_a_batch_takes_a_token_per_vote()
    {
        await using var server = await TestServer.StartAsync(ThreeAtOnce, realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;

        using (var whole = await LimitRequests.BatchAsync(server, poll, 3, "203.0.113.7"))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        }

        using (var more = await LimitRequests.BatchAsync(server, poll, 1, "203.0.113.7"))
        {
            await ApiClient.AssertProblemAsync(more, (HttpStatusCode)429, "rate-limited");
        }

        using (var other = await LimitRequests.BatchAsync(server, poll, 2, "203.0.113.8"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode); // another client behind the same proxy
        }

        // An IPv6 client is its /64: another address in it shares the bucket, one in the next /64 does not.
        using (var v6 = await LimitRequests.BatchAsync(server, poll, 3, "2001:db8:1:2::10"))
        {
            Assert.Equal(HttpStatusCode.OK, v6.StatusCode);
        }

        using (var sameNetwork = await LimitRequests.BatchAsync(server, poll, 1, "2001:db8:1:2:ffff::99"))
        {
            await ApiClient.AssertProblemAsync(sameNetwork, (HttpStatusCode)429, "rate-limited");
        }

        using (var nextNetwork = await LimitRequests.BatchAsync(server, poll, 1, "2001:db8:1:3::10"))
        {
            Assert.Equal(HttpStatusCode.OK, nextNetwork.StatusCode);
        }

        Assert.Equal(9, (long)(await server.Client.ResultsAsync(poll))["totalVotes"]!);
    }

    [Fact]
    public async Task The_older_Votes_and_Window_settings_still_work_as_a_bucket_of_that_size()
    {
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string> { ["Tally:RateLimit:Votes"] = "3", ["Tally:RateLimit:Window"] = "00:01:00" },
            realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        using (var three = await LimitRequests.BatchAsync(server, poll, 3))
        {
            Assert.Equal(HttpStatusCode.OK, three.StatusCode);
            Assert.Equal("\"ip\";q=3;w=60", LimitRequests.Header(three, "RateLimit-Policy")); // 3 per minute: a burst of 3, refilled at 0.05 a second
        }

        using var fourth = await server.Client.VoteAsync(poll, [1], null);
        var problem = await ApiClient.AssertProblemAsync(fourth, (HttpStatusCode)429, "rate-limited");
        Assert.Contains("3 votes at once and 0.05 a second", (string)problem["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turned_off_nothing_is_limited_and_no_RateLimit_header_is_sent()
    {
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string> { ["Tally:RateLimit:Enabled"] = "false", ["Tally:RateLimit:Ip:Burst"] = "1", ["Tally:RateLimit:Ip:Rate"] = "0.01" },
            realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        using var batch = await LimitRequests.BatchAsync(server, poll, 10);
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.False(batch.Headers.Contains("RateLimit"));
        Assert.False(batch.Headers.Contains("RateLimit-Policy"));
    }

    [Fact]
    public async Task Bad_limit_settings_stop_the_server_at_start_and_every_one_is_named()
    {
        var bad = new Dictionary<string, string>
        {
            ["Tally:RateLimit:Ip:Rate"] = "-1",
            ["Tally:RateLimit:Voter:Burst"] = "0",
            ["Tally:RateLimit:Key:Rate"] = "NaN",
            ["Tally:RateLimit:NewVoters:Rate"] = "0.0000001",
            ["Tally:Connections:MaxConnectionsPerIp"] = "-2",
            ["Tally:RateLimit:Votes"] = "-1",
            ["Tally:RateLimit:Window"] = "00:00:00",
            ["Tally:RateLimit:MaxBuckets"] = "10",
            ["Tally:WebSockets:MessageBurst"] = "0",
            ["Tally:WebSockets:MessagesPerSecond"] = "-5",
            ["Tally:Connections:MaxStreamsPerIp"] = "-1",
            ["Tally:Proxies:Trusted"] = "10.0.0.0/33, not-an-address",
        };
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var server = await TestServer.StartAsync(bad, realLimits: true);
        });
        var text = failure.ToString();
        foreach (var key in new[]
        {
            "Tally:RateLimit:Ip:Rate", "Tally:RateLimit:Voter:Burst", "Tally:RateLimit:Key:Rate", "Tally:RateLimit:NewVoters:Rate", "Tally:RateLimit:Votes",
            "Tally:RateLimit:Window", "Tally:RateLimit:MaxBuckets", "Tally:WebSockets:MessageBurst", "Tally:WebSockets:MessagesPerSecond",
            "Tally:Connections:MaxStreamsPerIp", "Tally:Connections:MaxConnectionsPerIp", "\"10.0.0.0/33\"", "\"not-an-address\"",
        })
        {
            Assert.Contains(key, text, StringComparison.Ordinal);
        }
    }
}
