using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.V1;

namespace Tally.Server.Tests.Security;

/// <summary>
/// A stream already open when its key is revoked ends: the credential is checked again when access changes, and a
/// watcher that may no longer read the poll is cut off with the refusal a new request would get (SSE: the stream
/// ends and a reconnect is refused; WebSocket: an error for that poll, the subscription gone; gRPC: UNAUTHENTICATED).
/// </summary>
public sealed class StreamRevocationTests(SecureServer fixture) : IClassFixture<SecureServer>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task An_sse_stream_ends_and_reconnecting_is_refused()
    {
        var (poll, workspace, key, id) = await PrivatePollAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{poll}/events");
        Transports.Authorize(request, key);
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        using var response = await Server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        while (await reader.ReadLineAsync(timeout.Token) is { } line && line != "event: snapshot")
        {
        }

        await fixture.RevokeKeyAsync(workspace, id);
        while (await reader.ReadLineAsync(timeout.Token) is not null)
        {
            // drain until the server ends the stream
        }

        Assert.Equal("unauthorized", await Transports.WatchAsync(Server, Via.Sse, poll, key));
    }

    [Theory]
    [InlineData(Via.WebSocketJson)]
    [InlineData(Via.WebSocketMessagePack)]
    public async Task A_websocket_subscription_ends_with_an_error_for_its_poll(Via via)
    {
        var (poll, workspace, key, id) = await PrivatePollAsync();
        var (socket, _) = await Transports.ConnectAsync(Server, via, null);
        await using (socket)
        {
            await socket!.SendAsync(new System.Text.Json.Nodes.JsonObject { ["op"] = "subscribe", ["pollId"] = poll, ["token"] = key });
            Assert.Equal("snapshot", (string?)(await socket.ReceiveAsync())["type"]);

            await fixture.RevokeKeyAsync(workspace, id);
            var ended = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error");
            Assert.Equal(poll, (string?)ended["pollId"]);
            Assert.Equal("urn:tally:problem:unauthorized", (string?)ended["error"]!["type"]);

            // The socket itself goes on: it only lost that subscription.
            await socket.PingAsync();
        }
    }

    [Fact]
    public async Task A_grpc_watch_ends_unauthenticated()
    {
        var (poll, workspace, key, id) = await PrivatePollAsync();
        using var channel = GrpcChannel.ForAddress(Server.GrpcAddress);
        using var call = new Tally.V1.Live.LiveClient(channel).Watch(new WatchRequest { PollId = poll }, Transports.Metadata(key), DateTime.UtcNow.Add(TestServer.Timeout));
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True(call.ResponseStream.Current.Snapshot);

        await fixture.RevokeKeyAsync(workspace, id);
        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
            }
        });
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
    }

    private async Task<(string Poll, string Workspace, string Key, string KeyId)> PrivatePollAsync()
    {
        var workspace = await fixture.CreateWorkspaceAsync();
        var (key, id) = await fixture.CreateKeyAsync(workspace, ["polls:read"]);
        var poll = await fixture.CreatePollAsync(access: "private", workspaceHeader: workspace);
        return (poll, workspace, key, id);
    }
}
