using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Kestrel's limits against slow clients (<c>Tally:Http</c>): headers and bodies that come too slowly are cut off,
/// and the response rate, which applies only while a write is pending, leaves idle watchers alone. The servers
/// here get short limits, so each cut-off is awaited with a bounded wait, never slept for.
/// </summary>
public sealed class SlowClientTests
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_client_that_does_not_finish_its_headers_in_time_gets_408_and_the_connection_is_closed()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Http:RequestHeadersTimeout"] = "00:00:01" });
        using var socket = await ConnectAsync(server);

        await socket.SendAsync("GET /healthz HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n"u8.ToArray()); // and the blank line never comes
        var answer = await ReadToEndAsync(socket);

        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal); // ReadToEndAsync returned: the server closed it
    }

    [Fact]
    public async Task A_body_slower_than_the_minimum_rate_gets_408_request_timeout_and_the_vote_does_not_count()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            ["Tally:Http:MinRequestBodyBytesPerSecond"] = "100000",
            ["Tally:Http:MinRequestBodyGrace"] = "00:00:02",
        });
        var id = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        using var socket = await ConnectAsync(server);

        // 120 bytes announced, 14 sent: the rate falls below 100 kB/s once the grace period is over.
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/polls/{id}/votes HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n{{\"optionIds\":["));
        var answer = await ReadToEndAsync(socket);

        Assert.StartsWith("HTTP/1.1 408 ", answer, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", answer, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"urn:tally:problem:request-timeout\"", answer, StringComparison.Ordinal);
        Assert.Equal(0, (long)(await server.Client.ResultsAsync(id))["totalVotes"]!);
    }

    [Fact]
    public async Task Idle_SSE_WebSocket_and_gRPC_watchers_outlive_a_demanding_response_rate_and_get_the_next_vote()
    {
        // 1 MB/s after 1.5 s: any write a client left pending would be cut off within a few seconds.
        await using var server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            ["Tally:Http:MinResponseBytesPerSecond"] = "1000000",
            ["Tally:Http:MinResponseGrace"] = "00:00:01.5",
        });
        var id = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        await using var sse = await SseClient.ConnectAsync(server.Client, $"/v1/polls/{id}/events");
        await using var socket = await LiveSocket.ConnectAsync(server, LiveSocket.Json);
        using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
        using var grpc = new GrpcWatcher(new LiveClient(channel), id);
        var view = new LiveView();
        Assert.Equal("snapshot", (await sse.NextAsync()).Name);
        await socket.SubscribeAsync(id);
        await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot", view);
        Assert.True((await grpc.NextAsync())!.Snapshot);

        // Idle for longer than twice the grace period (Kestrel checks once a second). This wait is the idleness
        // under test, not a stand-in for a signal: nothing is sent to the watchers meanwhile.
        await Task.Delay(TimeSpan.FromSeconds(4));
        long seq;
        using (var vote = await server.Client.VoteAsync(id, [2], "ann"))
        {
            seq = (long)(await vote.ReadJsonAsync())["seq"]!;
        }

        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < seq);

        Assert.Equal(seq, delta.Seq);
        await socket.ReceiveUntilSeqAsync(view, id, seq);
        Assert.Equal(1, view[id].Counts[2]);
        await grpc.ReadUntilSeqAsync(seq);
        Assert.Equal(1, grpc.Counts[2]);
    }

    [Fact]
    public async Task An_idle_WebSocket_over_HTTP_2_outlives_demanding_request_and_response_rates()
    {
        // Over HTTP/2 a WebSocket is a stream whose request body is the client's messages, mostly silent. Kestrel
        // exempts an accepted extended CONNECT from both rates as it does an HTTP/1.1 upgrade; this holds it to that.
        using var certificate = TestCertificate.Create();
        var settings = certificate.Settings;
        settings["urls"] = "https://127.0.0.1:0";
        settings["Tally:Http:MinRequestBodyBytesPerSecond"] = "1000000";
        settings["Tally:Http:MinRequestBodyGrace"] = "00:00:01.5";
        settings["Tally:Http:MinResponseBytesPerSecond"] = "1000000";
        settings["Tally:Http:MinResponseGrace"] = "00:00:01.5";
        await using var server = await TestServer.StartAsync(settings);
        var https = server.Services.GetRequiredService<Hosting.ServerListeners>().HttpAddresses[0];
        using var admin = certificate.Client(https, System.Net.HttpVersion.Version20, TestServer.AdminKey);
        var id = (string)(await admin.CreatePollAsync(options: 2))["id"]!;
        using var invoker = new HttpMessageInvoker(certificate.Handler());
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = System.Net.HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        socket.Options.AddSubProtocol(LiveSocket.Json);
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await socket.ConnectAsync(new UriBuilder(https) { Scheme = "wss", Path = "/v1/ws" }.Uri, invoker, timeout.Token);
        Assert.Equal(System.Net.HttpStatusCode.OK, socket.HttpStatusCode); // 200 to an HTTP/2 extended CONNECT, where HTTP/1.1 answers 101
        await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"op":"subscribe","pollId":"{{id}}"}"""), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        Assert.Contains("\"type\":\"snapshot\"", await ReceiveTextAsync(socket, timeout.Token), StringComparison.Ordinal);

        await Task.Delay(TimeSpan.FromSeconds(4)); // the idleness under test (see the test above), not a wait for a signal
        using (var vote = await admin.VoteAsync(id, [2], "ann"))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, vote.StatusCode);
        }

        string message;
        do
        {
            message = await ReceiveTextAsync(socket, timeout.Token);
        }
        while (!message.Contains("\"type\":\"delta\"", StringComparison.Ordinal) || !message.Contains("\"changes\":[{", StringComparison.Ordinal));

        Assert.Contains("{\"id\":2,\"votes\":1}", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_limits_reach_Kestrel_with_their_documented_defaults_and_settings_override_them()
    {
        await using var defaults = await TestServer.StartAsync();
        await using var set = await TestServer.StartAsync(new Dictionary<string, string>
        {
            ["Tally:Http:KeepAliveTimeout"] = "00:00:30",
            ["Tally:Http:MinRequestBodyBytesPerSecond"] = "0",
            ["Tally:Http:MaxRequestHeaderCount"] = "20",
            ["Tally:Http:Http2MaxStreamsPerConnection"] = "500",
        });

        var limits = defaults.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(75), limits.KeepAliveTimeout);
        Assert.Equal((4096d, TimeSpan.FromSeconds(5)), (limits.MinRequestBodyDataRate!.BytesPerSecond, limits.MinRequestBodyDataRate.GracePeriod));
        Assert.Equal((240d, TimeSpan.FromSeconds(5)), (limits.MinResponseDataRate!.BytesPerSecond, limits.MinResponseDataRate.GracePeriod));
        Assert.Equal(8 * 1024, limits.MaxRequestLineSize);
        Assert.Equal(16 * 1024, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(64, limits.MaxRequestHeaderCount);
        Assert.Equal(100, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(4096, limits.Http2.HeaderTableSize);
        Assert.Equal(8 * 1024, limits.Http2.MaxRequestHeaderFieldSize);

        var overridden = set.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(TimeSpan.FromSeconds(30), overridden.KeepAliveTimeout);
        Assert.Null(overridden.MinRequestBodyDataRate); // 0: off
        Assert.Equal(20, overridden.MaxRequestHeaderCount);
        Assert.Equal(500, overridden.Http2.MaxStreamsPerConnection);
    }

    [Fact]
    public async Task Requests_past_the_header_count_size_or_request_line_limits_get_431_or_414()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Http:MaxRequestHeaderCount"] = "8" });
        using var many = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        for (var i = 0; i < 10; i++)
        {
            many.Headers.Add($"X-Filler-{i}", "x");
        }

        using var large = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        large.Headers.Add("X-Filler", new string('x', 17 * 1024)); // past the default 16 KiB

        using (var response = await server.Client.SendAsync(many))
        {
            Assert.Equal(System.Net.HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        }

        using (var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout }) // Kestrel closed the other one
        using (var response = await client.SendAsync(large))
        {
            Assert.Equal(System.Net.HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        }

        using (var client = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout })
        using (var response = await client.GetAsync("/healthz?q=" + new string('x', 9 * 1024))) // past the 8 KiB request line
        {
            Assert.Equal(System.Net.HttpStatusCode.RequestUriTooLong, response.StatusCode);
        }
    }

    [Fact]
    public void Bad_limits_stop_the_start_with_every_failure_named()
    {
        // Kestrel reads its options as the app is built, so the build itself fails.
        var error = Assert.Throws<OptionsValidationException>(() => TallyApp.Build([
            "--Tally:Http:RequestHeadersTimeout=00:00:00",
            "--Tally:Http:MinRequestBodyGrace=00:00:01",
            "--Tally:Http:MinResponseBytesPerSecond=-1",
            "--Tally:Http:MaxRequestHeaderCount=0",
        ]));

        Assert.Equal(
            [
                "Tally:Http:RequestHeadersTimeout must be more than zero.",
                "Tally:Http:MinRequestBodyGrace must be longer than 1 s (Kestrel checks rates once a second).",
                "Tally:Http:MinResponseBytesPerSecond must be 0 (off) or more.",
                "Tally:Http:MaxRequestHeaderCount must be more than zero.",
            ],
            error.Failures);
    }

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var received = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cancellationToken);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            received.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return Encoding.UTF8.GetString(received.ToArray());
    }

    private static async Task<Socket> ConnectAsync(TestServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port, timeout.Token);
        return socket;
    }

    /// <summary>Everything the server sends until it closes the connection, within <see cref="CloseWait"/>.</summary>
    private static async Task<string> ReadToEndAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(CloseWait);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            }
            catch (OperationCanceledException ex)
            {
                throw new TimeoutException($"The server kept the connection open for {CloseWait.TotalSeconds} s; it sent: {Encoding.ASCII.GetString(received.ToArray())}", ex);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                break; // closed with a reset after its answer
            }

            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }
}
