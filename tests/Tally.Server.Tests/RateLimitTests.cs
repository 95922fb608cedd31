using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests;

/// <summary><c>Tally:RateLimit</c>: votes per client per window, over HTTP (single and batch), WebSocket and gRPC.</summary>
public sealed class RateLimitTests
{
    private static readonly Dictionary<string, string> ThreePerMinute = new()
    {
        ["Tally:RateLimit:Votes"] = "3",
        ["Tally:RateLimit:Window"] = "00:01:00", // long enough that the test never sees the window turn
    };

    [Fact]
    public async Task A_client_past_its_allowance_gets_429_with_Retry_After_on_every_transport_and_nothing_refused_counts()
    {
        await using var server = await TestServer.StartAsync(ThreePerMinute);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        for (var i = 0; i < 3; i++)
        {
            using var counted = await server.Client.VoteAsync(poll, [1], null);
            Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        }

        using (var refused = await server.Client.VoteAsync(poll, [1], null))
        {
            var problem = await ApiClient.AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("at most 3 votes per 60 s", (string)problem["detail"]!, StringComparison.Ordinal);
            var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60);
        }

        using (var batch = await server.Client.PostAsJsonAsync("/v1/votes/batch", new { votes = new[] { new { pollId = poll, optionIds = new[] { 2 } } } }))
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
            Assert.NotNull(call.Trailers.GetValue("grpc-retry-pushback-ms"));
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 3, [2] = 0 }, ApiClient.Counts(await server.Client.ResultsAsync(poll)));
        Assert.Equal(4, await PrometheusText.ScrapeAsync(server.Client, "tally_votes_total", ("outcome", "rejected"), ("reason", "rate_limited")));
    }

    [Fact]
    public async Task Each_client_behind_a_proxy_on_this_host_has_its_own_allowance_and_a_batch_counts_every_vote()
    {
        await using var server = await TestServer.StartAsync(ThreePerMinute);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;

        async Task<HttpResponseMessage> BatchAsync(string forwardedFor, int votes)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/votes/batch")
            {
                Content = JsonContent.Create(new { votes = Enumerable.Range(0, votes).Select(_ => new { pollId = poll, optionIds = new[] { 1 } }).ToArray() }),
            };
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            return await server.Client.SendAsync(request);
        }

        using (var whole = await BatchAsync("203.0.113.7", 3))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        }

        using (var more = await BatchAsync("203.0.113.7", 1))
        {
            await ApiClient.AssertProblemAsync(more, (HttpStatusCode)429, "rate-limited");
        }

        using (var other = await BatchAsync("203.0.113.8", 2))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode); // another client behind the same proxy
        }

        using (var tooBig = await BatchAsync("203.0.113.9", 4))
        {
            var problem = await ApiClient.AssertProblemAsync(tooBig, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("Send fewer", (string)problem["detail"]!, StringComparison.Ordinal); // can never pass: say so
        }

        Assert.Equal(5, (long)(await server.Client.ResultsAsync(poll))["totalVotes"]!);
    }

    [Theory]
    [InlineData("Tally:RateLimit:Votes", "-1")]
    [InlineData("Tally:RateLimit:Window", "00:00:00")]
    public async Task A_bad_rate_limit_setting_stops_the_server_at_start(string key, string value)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var server = await TestServer.StartAsync(new Dictionary<string, string> { [key] = value });
        });
        Assert.Contains(key, failure.ToString(), StringComparison.Ordinal);
    }
}
