using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Limits;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.Server.Tests.Security;
using Ways = Tally.Server.Tests.Security.Transports;
using Tally.Testing;
using Tally.V1;

namespace Tally.Server.Tests.Limits;

/// <summary>A WebSocket's message rate, the live streams one address may hold open, and its TCP connections.</summary>
public sealed class SocketAndConnectionLimitTests
{
    [Fact]
    public async Task A_socket_past_its_message_rate_gets_errors_and_one_that_keeps_sending_is_closed_with_1008()
    {
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string> { ["Tally:WebSockets:MessagesPerSecond"] = "0.01", ["Tally:WebSockets:MessageBurst"] = "3" },
            realLimits: true);
        await using var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json);
        for (var i = 1; i <= 3; i++)
        {
            await socket.SendAsync(Ping("p" + i));
            Assert.Equal("pong", (string?)(await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "p" + i))["type"]);
        }

        // Past the burst: each op is answered with an error and not carried out, the socket stays open...
        for (var i = 4; i <= 6; i++)
        {
            await socket.SendAsync(Ping("p" + i));
            var error = await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "p" + i);
            Assert.Equal("error", (string?)error["type"]);
            Assert.Equal("urn:tally:problem:rate-limited", (string?)error["error"]!["type"]);
            Assert.Contains("This socket may send 3 messages at once and 0.01 a second after that", (string)error["error"]!["detail"]!, StringComparison.Ordinal);
        }

        // ...until it has sent another burst's worth while refused: then it is closed.
        await socket.SendAsync(Ping("p7"));
        var (status, description) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("too many messages: at most 0.01 a second", description);
        Assert.DoesNotContain(socket.Received, m => (string?)m["requestId"] == "p7");
        Assert.Equal(3, await PrometheusText.ScrapeAsync(server.Client, "tally_limits_refused_total", ("limit", "socket_messages")));
    }

    [Fact]
    public async Task The_subscription_cap_still_closes_a_socket_with_1008()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:WebSockets:MaxSubscriptions"] = "2" }, realLimits: true);
        var polls = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            polls.Add((string)(await server.Admin.CreatePollAsync(options: 2))["id"]!);
        }

        await using var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json);
        foreach (var poll in polls)
        {
            await socket.SubscribeAsync(poll);
        }

        var (status, description) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("at most 2 subscriptions per socket", description);
    }

    [Fact]
    public async Task Past_its_live_streams_cap_an_address_gets_429_on_SSE_and_WebSocket_and_RESOURCE_EXHAUSTED_on_gRPC_while_others_connect()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Connections:MaxStreamsPerIp"] = "2" }, realLimits: true);
        var poll = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        var limits = server.Services.GetRequiredService<ConnectionLimits>();

        var first = await SseClient.ConnectAsync(server.Client, $"/v1/polls/{poll}/events");
        Assert.Equal("snapshot", (await first.NextAsync()).Name);
        await using var second = await Ways.ConnectAsync(server, Via.WebSocketJson, credential: null) is ({ } socket, _) ? socket : throw new InvalidOperationException("no socket");
        await second.SubscribeAsync(poll);
        Assert.Equal("snapshot", (string?)(await second.ReceiveAsync())["type"]);
        Assert.Equal(2, limits.StreamsOf(IPAddress.Loopback));

        using (var third = await server.Client.GetAsync(new Uri($"/v1/polls/{poll}/events", UriKind.Relative)))
        {
            var problem = await ApiClient.AssertProblemAsync(third, (HttpStatusCode)429, "too-many-connections");
            Assert.Contains("This address has 2 live streams (WebSockets, SSE, gRPC watches) open", (string)problem["detail"]!, StringComparison.Ordinal);
            Assert.Equal("5", LimitRequests.Header(third, "Retry-After"));
        }

        Assert.Equal("too-many-connections", await Ways.WatchAsync(server, Via.WebSocketJson, poll, credential: null));
        using (var channel = GrpcChannel.ForAddress(server.GrpcAddress))
        {
            using var call = new Tally.V1.Live.LiveClient(channel).Watch(new WatchRequest { PollId = poll }, deadline: DateTime.UtcNow.Add(TestServer.Timeout));
            var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
            Assert.Equal("too-many-connections", Ways.SlugOf(refused));
            Assert.Equal("5000", refused.Trailers.GetValue("grpc-retry-pushback-ms"));
        }

        // Another client behind the proxy has its own count; plain requests are not streams.
        await using (var other = await SseClient.ConnectAsync(server.Client, $"/v1/polls/{poll}/events", configure: r => r.Headers.Add("X-Forwarded-For", "203.0.113.50")))
        {
            Assert.Equal("snapshot", (await other.NextAsync()).Name);
        }

        Assert.Equal("ok", await Ways.WatchAsync(server, Via.Http, poll, credential: null));

        // A stream that ends gives its place back.
        await first.DisposeAsync();
        await Eventually.WaitUntilAsync(() => limits.StreamsOf(IPAddress.Loopback) < 2, TestServer.Timeout);
        Assert.Equal("ok", await Ways.WatchAsync(server, Via.Grpc, poll, credential: null));
        Assert.Equal(3, await PrometheusText.ScrapeAsync(server.Client, "tally_limits_refused_total", ("limit", "streams")));
    }

    [Fact]
    public async Task Past_its_connections_cap_an_address_that_is_not_a_trusted_proxy_has_new_connections_closed()
    {
        // Loopback is not a trusted proxy here, so the test's own connections count (a trusted proxy's never do).
        await using var server = await TestServer.StartAsync(
            new Dictionary<string, string>
            {
                ["Tally:Proxies:Trusted"] = "10.9.8.7",
                ["Tally:Connections:MaxConnectionsPerIp"] = "3",
                ["Tally:Connections:MaxStreamsPerIp"] = "3",
            },
            realLimits: true);
        var limits = server.Services.GetRequiredService<ConnectionLimits>();
        var idle = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var client = new TcpClient();
                idle.Add(client);
                await client.ConnectAsync(IPAddress.Loopback, server.BaseAddress.Port).WaitAsync(TestServer.Timeout);
            }

            await Eventually.WaitUntilAsync(() => limits.ConnectionsOf(IPAddress.Loopback) == 3, TestServer.Timeout);
            using (var fresh = NewClient(server))
            {
                await Assert.ThrowsAsync<HttpRequestException>(() => fresh.GetAsync(new Uri("/healthz", UriKind.Relative)));
            }

            Assert.Equal(3, limits.ConnectionsOf(IPAddress.Loopback));

            idle[0].Dispose();
            await Eventually.WaitUntilAsync(() => limits.ConnectionsOf(IPAddress.Loopback) < 3, TestServer.Timeout);
            using (var fresh = NewClient(server))
            {
                using var healthy = await fresh.GetAsync(new Uri("/healthz", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
            }
        }
        finally
        {
            foreach (var client in idle)
            {
                client.Dispose();
            }
        }

        Assert.True(await PrometheusText.ScrapeAsync(server.Client, "tally_limits_refused_total", ("limit", "connections")) >= 1);
    }

    [Fact]
    public async Task Past_the_nodes_connection_cap_every_new_connection_is_closed_upgraded_ones_counted_too()
    {
        // Loopback is a trusted proxy by default, so only the node's cap applies (per-address caps skip proxies).
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Connections:MaxConnections"] = "3" });
        var limits = server.Services.GetRequiredService<ConnectionLimits>();
        var sockets = new List<LiveSocket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                sockets.Add(await LiveSocket.ConnectAsync(server, LiveSocket.Json)); // upgraded: Kestrel's own cap would stop counting them
            }

            Assert.Equal(3, limits.OpenConnections);
            using (var fresh = NewClient(server))
            {
                await Assert.ThrowsAsync<HttpRequestException>(() => fresh.GetAsync(new Uri("/healthz", UriKind.Relative)));
            }

            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var refused = await LiveSocket.ConnectAsync(server, LiveSocket.Json);
            });
            Assert.Equal(3, limits.OpenConnections);

            await sockets[0].DisposeAsync();
            sockets.RemoveAt(0);
            await Eventually.WaitUntilAsync(() => limits.OpenConnections < 3, TestServer.Timeout);
            using (var fresh = NewClient(server))
            {
                using var healthy = await fresh.GetAsync(new Uri("/healthz", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }

        await Eventually.WaitUntilAsync(() => limits.OpenConnections == 0, TestServer.Timeout);
        Assert.True(await PrometheusText.ScrapeAsync(server.Client, "tally_limits_refused_total", ("limit", "server-connections")) >= 2);
    }

    [Fact]
    public async Task A_connection_cap_below_zero_or_past_the_open_file_limit_stops_the_server_at_start()
    {
        var negative = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Connections:MaxConnections"] = "-1" });
        });
        Assert.Contains("Tally:Connections:MaxConnections must be 0", negative.ToString(), StringComparison.Ordinal);

        if (OpenFileLimit.Current() is { } limit && limit < int.MaxValue)
        {
            var past = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Connections:MaxConnections"] = (limit + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) });
            });
            Assert.Contains("below the process's open-file limit", past.ToString(), StringComparison.Ordinal);
        }
    }

    private static HttpClient NewClient(TestServer server) =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };

    private static JsonObject Ping(string requestId) => new() { ["op"] = "ping", ["requestId"] = requestId };
}
