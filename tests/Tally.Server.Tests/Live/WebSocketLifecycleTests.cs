using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Tally.Server.Tests.Live;

/// <summary><c>/v1/ws</c> under settings of its own: limits, resume past the history, shutdown, slow consumers.</summary>
public sealed class WebSocketLifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Stopping_the_server_closes_sockets_with_1001_without_waiting_for_silent_clients()
    {
        var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:WebSockets:CloseTimeout"] = "00:00:01" });
        var disposed = false;
        try
        {
            var pollId = (string)(await server.Admin.CreatePollAsync())["id"]!;
            await using var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json);
            await socket.SubscribeAsync(pollId);
            await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
            await using var silent = await LiveSocket.ConnectAsync(server, LiveSocket.MessagePack); // never reads again
            await silent.SubscribeAsync(pollId);

            var clock = Stopwatch.StartNew();
            var stopping = server.DisposeAsync().AsTask();
            disposed = true;
            var (status, description) = await socket.ReceiveCloseAsync();
            await stopping.WaitAsync(TestServer.Timeout);

            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status);
            Assert.Equal("server shutting down", description);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {clock.Elapsed}");
        }
        finally
        {
            if (!disposed)
            {
                await server.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task One_subscription_over_the_limit_closes_with_1008()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:WebSockets:MaxSubscriptions"] = "2" });
        var polls = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            polls.Add((string)(await server.Admin.CreatePollAsync())["id"]!);
        }

        await using var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json);
        await socket.SubscribeAsync(polls[0]);
        await socket.SubscribeAsync(polls[1]);
        await socket.SubscribeAsync(polls[0]); // already watched: not one more
        await socket.PingAsync();
        Assert.Equal(WebSocketState.Open, socket.Socket.State);
        if (socket.Received.Count(m => (string?)m["type"] == "snapshot") < 2)
        {
            // The pong says the ops were handled; the hub writes their snapshots on its own, maybe after it.
            await socket.ReceiveUntilAsync(_ => socket.Received.Count(m => (string?)m["type"] == "snapshot") == 2);
        }

        await socket.SubscribeAsync(polls[2]);
        var (status, description) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Contains("at most 2 subscriptions", description, StringComparison.Ordinal);
        Assert.Equal(2, socket.Received.Count(m => (string?)m["type"] == "snapshot"));
    }

    [Theory]
    [InlineData(LiveSocket.Json)]
    [InlineData(LiveSocket.MessagePack)]
    public async Task Resuming_from_before_the_history_or_from_a_seq_the_server_never_had_gets_a_snapshot(string protocol)
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Live:HistoryLength"] = "2" });
        var pollId = (string)(await server.Admin.CreatePollAsync())["id"]!;
        await using var watcher = await LiveSocket.ConnectAsync(server, protocol);
        var view = new LiveView();
        await watcher.SubscribeAsync(pollId);
        await watcher.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot", view);
        var start = view[pollId].Seq;
        for (var i = 0; i < 4; i++)
        {
            // One delta per vote (each waited for), so the history of 2 no longer reaches back to start.
            using var response = await server.Client.VoteAsync(pollId, [(i % 3) + 1], "v" + i);
            var seq = (long)(await response.ReadJsonAsync())["seq"]!;
            await watcher.ReceiveUntilSeqAsync(view, pollId, seq);
        }

        var results = await server.Client.ResultsAsync(pollId);
        foreach (var since in new[] { start, (long)results["seq"]! + 1000 })
        {
            await using var resumed = await LiveSocket.ConnectAsync(server, protocol);
            await resumed.SubscribeAsync(pollId, since);
            var snapshot = await resumed.ReceiveAsync();
            Assert.Equal("snapshot", (string?)snapshot["type"]);
            Assert.Equal((long)results["seq"]!, (long)snapshot["seq"]!);
            var fresh = new LiveView();
            fresh.Apply(snapshot);
            Assert.Equal(ApiClient.Counts(results), fresh[pollId].Counts);
        }
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_closed_with_4000_and_its_subscriptions_end()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            ["Tally:Live:StuckTimeout"] = "00:00:00.5",
            ["Tally:WebSockets:CloseTimeout"] = "00:00:20",
        });
        var pollId = (string)(await server.Admin.CreatePollAsync())["id"]!;

        // A small receive buffer on the client's socket, so that its unread messages fill the connection soon.
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var raw = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                await raw.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(raw, ownsSocket: true);
            },
        };
        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol(LiveSocket.Json);
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await client.ConnectAsync(LiveSocket.WebSocketUri(server), new HttpMessageInvoker(handler), timeout.Token);
        await client.SendAsync(LiveSocket.Encode(new JsonObject { ["op"] = "subscribe", ["pollId"] = pollId }, false), WebSocketMessageType.Text, true, timeout.Token);

        // Each of these is answered with an error of ~400 bytes that the client does not read. The server
        // stops reading while an answer is stuck, so the sends stall until it gives up on the client.
        var flood = Encoding.UTF8.GetBytes($"{{\"requestId\":\"{new string('r', 128)}\",\"{new string('k', 60)}\":1}}");
        var sent = 0;
        while (sent < 100_000 && !timeout.IsCancellationRequested)
        {
            await client.SendAsync(flood, WebSocketMessageType.Text, true, timeout.Token);
            sent++;
        }

        // Now read: the errors the server got out, then its close frame.
        var buffer = new byte[64 * 1024];
        WebSocketReceiveResult result;
        var messages = 0;
        do
        {
            result = await client.ReceiveAsync(buffer, timeout.Token);
            messages += result.EndOfMessage ? 1 : 0;
        }
        while (result.MessageType != WebSocketMessageType.Close);

        output.WriteLine($"{sent} sent, {messages} answers read, then {client.CloseStatus} {client.CloseStatusDescription}");
        Assert.True((int?)client.CloseStatus == 4000, $"closed with {client.CloseStatus} {client.CloseStatusDescription} after {sent} sent, {messages} read");
        Assert.StartsWith("slow consumer", client.CloseStatusDescription, StringComparison.Ordinal);
        Assert.True(messages < sent, $"{messages} of {sent} answered");
        Assert.Equal(1, await PrometheusText.ScrapeAsync(server.Client, "tally_live_slow_consumers_total", ("transport", "websocket")));
        await Tally.Testing.Eventually.WaitUntilAsync(() => server.Services.GetRequiredService<Tally.Live.LiveHub>().WatcherCount(pollId) == 0, TestServer.Timeout);
    }
}
