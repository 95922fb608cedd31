using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.V1;

namespace Tally.Server.Tests.Security;

/// <summary>The ways a client reaches the server.</summary>
public enum Via
{
    Http,
    WebSocketJson,
    WebSocketMessagePack,
    Grpc,
    Sse,
}

/// <summary>
/// One vote or one watch over any transport, answered as one word: <c>counted</c> / <c>changed</c> for a vote,
/// <c>ok</c> for a read or a stream that started with a snapshot, else the problem's slug (<c>unauthorized</c>,
/// <c>forbidden</c>, <c>poll-not-found</c>, …) — the same slug on every transport, so a test states one rule and
/// checks it on each.
/// </summary>
public static class Transports
{
    public static TheoryData<Via> Voting => new(Via.Http, Via.WebSocketJson, Via.WebSocketMessagePack, Via.Grpc);

    public static TheoryData<Via> Watching => new(Via.Http, Via.Sse, Via.WebSocketJson, Via.WebSocketMessagePack, Via.Grpc);

    /// <param name="credential">Sent as <c>Authorization: Bearer</c> (the WebSocket's upgrade request, gRPC metadata).</param>
    public static async Task<string> VoteAsync(TestServer server, Via via, string pollId, string? credential, int option = 1, string? voterId = null, string? inviteCode = null)
    {
        switch (via)
        {
            case Via.Http:
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/polls/{pollId}/votes") { Content = JsonContent.Create(new { optionIds = new[] { option }, voterId, inviteCode }) };
                Authorize(request, credential);
                using var response = await server.Client.SendAsync(request);
                return await WordOfAsync(response, "counted");
            }

            case Via.WebSocketJson or Via.WebSocketMessagePack:
            {
                var (socket, refused) = await ConnectAsync(server, via, credential);
                if (socket is null)
                {
                    return refused!;
                }

                await using (socket)
                {
                    var op = new JsonObject { ["op"] = "vote", ["pollId"] = pollId, ["optionIds"] = new JsonArray(option), ["requestId"] = "r1" };
                    if (voterId is not null)
                    {
                        op["voterId"] = voterId;
                    }

                    if (inviteCode is not null)
                    {
                        op["inviteCode"] = inviteCode;
                    }

                    await socket.SendAsync(op);
                    var answer = await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "r1");
                    return (string?)answer["type"] == "ack" ? (string)answer["status"]! : Slug((string)answer["error"]!["type"]!);
                }
            }

            case Via.Grpc:
            {
                using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
                var request = new VoteRequest { PollId = pollId, OptionIds = { option }, VoterId = voterId ?? string.Empty, InviteCode = inviteCode ?? string.Empty };
                try
                {
                    var reply = await new Tally.V1.Live.LiveClient(channel).VoteAsync(request, Metadata(credential), DateTime.UtcNow.Add(TestServer.Timeout));
                    return reply.Status == VoteStatus.Changed ? "changed" : "counted";
                }
                catch (RpcException ex)
                {
                    return SlugOf(ex);
                }
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(via), via, "SSE does not vote.");
        }
    }

    /// <summary>Reads the poll's results (HTTP) or opens a stream of them and takes its first message.</summary>
    public static async Task<string> WatchAsync(TestServer server, Via via, string pollId, string? credential)
    {
        switch (via)
        {
            case Via.Http:
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{pollId}/results");
                Authorize(request, credential);
                using var response = await server.Client.SendAsync(request);
                return await WordOfAsync(response, "ok");
            }

            case Via.Sse:
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{pollId}/events");
                Authorize(request, credential);
                using var timeout = new CancellationTokenSource(TestServer.Timeout);
                using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    return await WordOfAsync(response, "ok");
                }

                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
                while (await reader.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (line.StartsWith("event: ", StringComparison.Ordinal))
                    {
                        return line == "event: snapshot" ? "ok" : "unexpected " + line;
                    }
                }

                return "unexpected end";
            }

            case Via.WebSocketJson or Via.WebSocketMessagePack:
            {
                var (socket, refused) = await ConnectAsync(server, via, credential);
                if (socket is null)
                {
                    return refused!;
                }

                await using (socket)
                {
                    await socket.SubscribeAsync(pollId);
                    var first = await socket.ReceiveAsync();
                    return (string?)first["type"] switch
                    {
                        "snapshot" => "ok",
                        "error" => Slug((string)first["error"]!["type"]!),
                        var other => "unexpected " + other,
                    };
                }
            }

            case Via.Grpc:
            {
                using var channel = GrpcChannel.ForAddress(server.GrpcAddress);
                using var call = new Tally.V1.Live.LiveClient(channel).Watch(new WatchRequest { PollId = pollId }, Metadata(credential), DateTime.UtcNow.Add(TestServer.Timeout));
                try
                {
                    return await call.ResponseStream.MoveNext(CancellationToken.None) && call.ResponseStream.Current.Snapshot ? "ok" : "unexpected end";
                }
                catch (RpcException ex)
                {
                    return SlugOf(ex);
                }
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(via), via, null);
        }
    }

    /// <summary>A socket opened with <paramref name="credential"/> in its upgrade request, or the slug of the refused upgrade.</summary>
    public static async Task<(LiveSocket? Socket, string? Refused)> ConnectAsync(TestServer server, Via via, string? credential, Action<ClientWebSocketOptions>? configure = null)
    {
        try
        {
            var socket = await LiveSocket.ConnectAsync(server, via == Via.WebSocketMessagePack ? LiveSocket.MessagePack : LiveSocket.Json, options =>
            {
                options.CollectHttpResponseDetails = true;
                if (credential is not null)
                {
                    options.SetRequestHeader("Authorization", "Bearer " + credential);
                }

                configure?.Invoke(options);
            });
            return (socket, null);
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.NotAWebSocket)
        {
            return (null, ex.Message.Contains("'401'", StringComparison.Ordinal) ? "unauthorized"
                : ex.Message.Contains("'403'", StringComparison.Ordinal) ? "forbidden"
                : ex.Message.Contains("'429'", StringComparison.Ordinal) ? "too-many-connections"
                : "upgrade refused: " + ex.Message);
        }
    }

    public static void Authorize(HttpRequestMessage request, string? credential)
    {
        if (credential is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }
    }

    public static Metadata? Metadata(string? credential) => credential is null ? null : new Metadata { { "authorization", "Bearer " + credential } };

    public static string SlugOf(RpcException ex) =>
        ex.Trailers.GetValue("tally-problem-type") is { } type ? Slug(type) : "grpc " + ex.StatusCode;

    private static async Task<string> WordOfAsync(HttpResponseMessage response, string success)
    {
        if (response.IsSuccessStatusCode)
        {
            if (success == "counted" && response.StatusCode == HttpStatusCode.OK)
            {
                return "changed";
            }

            return success;
        }

        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        var slug = Slug((string)problem["type"]!);
        Assert.Equal((int)response.StatusCode, (int)problem["status"]!);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        }

        return slug;
    }

    private static string Slug(string type) => type.StartsWith("urn:tally:problem:", StringComparison.Ordinal) ? type["urn:tally:problem:".Length..] : type;
}
