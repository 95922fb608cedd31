using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using MessagePack;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Live;

/// <summary>
/// What an attacker can send <c>/v1/ws</c> in either subprotocol: keys in another case, strings that are
/// not text (invalid UTF-8, unpaired surrogates), poll ids of any shape and length. Each op gets the error
/// the HTTP API would give, nothing is counted, and the socket stays open, except where the WebSocket
/// protocol itself says otherwise (a text frame that is not UTF-8 closes with 1007).
/// </summary>
public sealed class WebSocketBadInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    public static TheoryData<string> Protocols => new() { LiveSocket.Json, LiveSocket.MessagePack };

    private TestServer Server => fixture.Server;

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Keys_are_matched_exactly_so_a_key_in_another_case_is_unknown(string protocol)
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);

        foreach (var key in new[] { "OPTIONIDS", "optionids", "OptionIds", "VoterId" })
        {
            var op = new JsonObject
            {
                ["op"] = "vote",
                ["pollId"] = pollId,
                ["requestId"] = "case-" + key,
                [key] = key.StartsWith("O", StringComparison.OrdinalIgnoreCase) ? new JsonArray(1) : "v",
            };
            await socket.SendAsync(op);
            var error = await ExpectErrorAsync(socket, "invalid-message");
            Assert.Equal("case-" + key, (string?)error["requestId"]);
            Assert.Contains($"\"{key}\"", (string?)error["error"]!["detail"], StringComparison.Ordinal);
        }

        await socket.SendAsync(new JsonObject { ["OP"] = "ping" });
        await ExpectErrorAsync(socket, "invalid-message");

        await socket.PingAsync();
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    [Fact]
    public async Task A_messagepack_string_that_is_not_utf8_is_refused_not_replaced()
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, LiveSocket.MessagePack);

        // Two different invalid byte strings, which a lenient decoder would both read as "a\uFFFD".
        byte[][] voters = [[0x61, 0xC3, 0x28], [0x61, 0xFF], [0x61, 0xED, 0xA0, 0x80] /* an encoded surrogate */, [0x61, 0xC0, 0x80] /* overlong */];
        for (var i = 0; i < voters.Length; i++)
        {
            await socket.SendRawAsync(Vote(pollId, voters[i], $"bad-{i}"), WebSocketMessageType.Binary);
            var error = await ExpectErrorAsync(socket, "invalid-message");
            Assert.Contains("voterId is not valid UTF-8", (string?)error["error"]!["detail"], StringComparison.Ordinal);
        }

        await socket.SendRawAsync(Vote([0x70, 0xFF], "v"u8.ToArray(), "bad-poll"), WebSocketMessageType.Binary);
        Assert.Contains("pollId", (string?)(await ExpectErrorAsync(socket, "invalid-message"))["error"]!["detail"], StringComparison.Ordinal);

        await socket.PingAsync();
        Assert.Equal(WebSocketState.Open, socket.Socket.State);
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    [Fact]
    public async Task A_json_string_with_an_unpaired_surrogate_escape_is_refused()
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, LiveSocket.Json);

        foreach (var voter in new[] { @"\ud800", @"a\udc00", @"\ude00\ud83d" })
        {
            var op = $$"""{"op":"vote","pollId":"{{pollId}}","optionIds":[1],"voterId":"{{voter}}","requestId":"r"}""";
            await socket.SendRawAsync(Encoding.UTF8.GetBytes(op), WebSocketMessageType.Text);
            Assert.Contains("surrogate", (string?)(await ExpectErrorAsync(socket, "invalid-message"))["error"]!["detail"], StringComparison.Ordinal);
        }

        await socket.PingAsync();
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_text_frame_that_is_not_utf8_closes_the_socket_with_1007(bool compressed)
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, LiveSocket.Json, options =>
        {
            if (compressed)
            {
                options.DangerousDeflateOptions = new WebSocketDeflateOptions();
            }
        });

        // ManagedWebSocket checks the UTF-8 of text frames (RFC 6455 §8.1) before the op is read.
        byte[] op = [.. Encoding.UTF8.GetBytes($$"""{"op":"vote","pollId":"{{pollId}}","optionIds":[1],"voterId":"a"""), 0xFF, .. "\",\"requestId\":\"r\"}"u8];
        await socket.SendRawAsync(op, WebSocketMessageType.Text);

        try
        {
            var (status, _) = await socket.ReceiveCloseAsync();
            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, status);
        }
        catch (WebSocketException)
        {
            // ManagedWebSocket sent its 1007 close frame and the session then aborted the connection (it does not
            // wait for a peer that broke the protocol), so the reset may reach this client before the frame.
        }

        Assert.NotEqual(WebSocketState.Open, socket.Socket.State);
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_poll_id_of_another_shape_is_no_such_poll_and_is_echoed_clipped(string protocol)
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        var huge = new string('h', 10_000);

        await socket.SubscribeAsync(huge);
        var subscribe = await ExpectErrorAsync(socket, "poll-not-found");
        Assert.Null(subscribe["pollId"]); // too long to echo
        Assert.Equal($"There is no poll {new string('h', 40)}….", (string?)subscribe["error"]!["detail"]);

        await socket.VoteAsync(huge, [1], "v", "huge");
        var vote = await ExpectErrorAsync(socket, "poll-not-found");
        Assert.Equal("huge", (string?)vote["requestId"]);
        Assert.True(((string?)vote["error"]!["detail"])!.Length < 70);

        await socket.VoteAsync(pollId + "-x", [1], "v", "dash");
        Assert.Equal(pollId + "-x", (string?)(await ExpectErrorAsync(socket, "poll-not-found"))["pollId"]);

        var before = socket.Received.Count;
        await socket.SendAsync(new JsonObject { ["op"] = "unsubscribe", ["pollId"] = huge }); // no answer: it watched no such poll
        await socket.PingAsync();
        Assert.Equal(["pong"], socket.Received.Skip(before).Select(m => (string?)m["type"]));
        Assert.Equal(WebSocketState.Open, socket.Socket.State);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_voter_id_with_an_invisible_character_is_a_validation_error(string protocol)
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);

        await socket.VoteAsync(pollId, [1], "ali\u200bce", "zwsp");
        var error = await ExpectErrorAsync(socket, "validation");
        Assert.Equal("zwsp", (string?)error["requestId"]);
        Assert.Contains("U+200B", (string?)error["error"]!["detail"], StringComparison.Ordinal);

        await socket.VoteAsync(pollId, [1], "alice", "ok", idempotencyKey: "key\u0000");
        Assert.Contains("U+0000", (string?)(await ExpectErrorAsync(socket, "validation"))["error"]!["detail"], StringComparison.Ordinal);
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    /// <summary>A vote op in MessagePack whose pollId and voterId strings hold the given bytes, valid UTF-8 or not.</summary>
    private static byte[] Vote(string pollId, byte[] voterIdUtf8, string requestId) => Vote(Encoding.UTF8.GetBytes(pollId), voterIdUtf8, requestId);

    private static byte[] Vote(byte[] pollIdUtf8, byte[] voterIdUtf8, string requestId)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(5);
        writer.Write("op");
        writer.Write("vote");
        writer.Write("requestId");
        writer.Write(requestId);
        writer.Write("pollId");
        writer.WriteString(pollIdUtf8);
        writer.Write("optionIds");
        writer.WriteArrayHeader(1);
        writer.Write(1);
        writer.Write("voterId");
        writer.WriteString(voterIdUtf8);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static async Task<JsonObject> ExpectErrorAsync(LiveSocket socket, string slug)
    {
        var message = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error");
        var error = message["error"]!.AsObject();
        Assert.True((string?)error["type"] == "urn:tally:problem:" + slug, $"expected {slug}: {message.ToJsonString()}");
        Assert.True(((string?)error["detail"])!.Length <= 200, message.ToJsonString());
        return message;
    }

    private async Task<string> CreatePollAsync() => (string)(await Server.Admin.CreatePollAsync(options: 3))["id"]!;
}
