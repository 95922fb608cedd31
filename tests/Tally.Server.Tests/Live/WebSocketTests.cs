using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tally.Live;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Live;

/// <summary>
/// <c>/v1/ws</c> with <c>ClientWebSocket</c> against the real server on loopback, in both subprotocols:
/// the counts a watcher ends with (snapshot, then absolute deltas) equal <c>GET /results</c>.
/// </summary>
public sealed class WebSocketTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    public static TheoryData<string> Protocols => new() { LiveSocket.Json, LiveSocket.MessagePack };

    private TestServer Server => fixture.Server;

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_watcher_gets_a_snapshot_then_deltas_of_votes_cast_over_http_and_over_the_socket(string protocol)
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        Assert.Equal(protocol, socket.Socket.SubProtocol);
        var view = new LiveView();

        await socket.SubscribeAsync(pollId);
        var snapshot = await socket.ReceiveUntilAsync(IsType("snapshot"), view);
        Assert.Equal(pollId, (string?)snapshot["pollId"]);
        Assert.Equal("open", (string?)snapshot["status"]);
        Assert.Equal(0, (long)snapshot["totalVotes"]!);
        Assert.Equal(1, (int)snapshot["watchers"]!);
        Assert.Equal(["Option 1", "Option 2", "Option 3"], snapshot["options"]!.AsArray().Select(o => (string)o!["text"]!));

        for (var i = 0; i < 5; i++)
        {
            using var response = await Server.Client.VoteAsync(pollId, [(i % 3) + 1], "http-" + Guid.NewGuid());
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        for (var i = 0; i < 5; i++)
        {
            await socket.VoteAsync(pollId, [(i % 2) + 1], "ws-" + Guid.NewGuid(), "r" + i);
        }

        var acks = new Dictionary<string, JsonObject>();
        await socket.ReceiveUntilAsync(m => IsType("ack")(m) && acks.TryAdd((string)m["requestId"]!, m) && acks.Count == 5, view);
        Assert.Equal(["r0", "r1", "r2", "r3", "r4"], acks.Keys.Order());
        Assert.All(acks.Values, ack =>
        {
            Assert.Equal("counted", (string?)ack["status"]);
            Assert.False(string.IsNullOrEmpty((string?)ack["voteId"]));
            Assert.True((long)ack["seq"]! > (long)snapshot["seq"]!);
        });

        var results = await Server.Client.ResultsAsync(pollId);
        await socket.ReceiveUntilSeqAsync(view, pollId, (long)results["seq"]!);
        Assert.Equal((long)results["seq"]!, view[pollId].Seq);
        Assert.Equal(ApiClient.Counts(results), view[pollId].Counts);
        Assert.Equal(10, view[pollId].TotalVotes);
        Assert.Equal(1, view[pollId].Snapshots);
        Assert.True(view[pollId].Deltas >= 1);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_watcher_that_resumes_from_its_last_seq_gets_the_missed_votes_as_deltas_once(string protocol)
    {
        var pollId = await CreatePollAsync();
        var first = new LiveView();
        await using (var socket = await LiveSocket.ConnectAsync(Server, protocol))
        {
            await socket.SubscribeAsync(pollId);
            await socket.ReceiveUntilAsync(IsType("snapshot"), first);
            await VoteOverHttpAsync(pollId, [1], [2], [2]);
            var before = await Server.Client.ResultsAsync(pollId);
            await socket.ReceiveUntilSeqAsync(first, pollId, (long)before["seq"]!);
            await socket.CloseAsync();
        }

        var known = first[pollId];
        await VoteOverHttpAsync(pollId, [3], [3], [1], [3]);
        var results = await Server.Client.ResultsAsync(pollId);
        Assert.True((long)results["seq"]! > known.Seq);

        await using var resumed = await LiveSocket.ConnectAsync(Server, protocol);
        var view = new LiveView();
        view.Resume(pollId, known);
        await resumed.SubscribeAsync(pollId, since: known.Seq);
        await resumed.ReceiveUntilSeqAsync(view, pollId, (long)results["seq"]!);

        Assert.DoesNotContain(resumed.Received, m => IsType("snapshot")(m));
        Assert.Equal(ApiClient.Counts(results), view[pollId].Counts);
        Assert.Equal((long)results["totalVotes"]!, view[pollId].TotalVotes);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task One_socket_watches_two_polls_and_each_ends_with_its_results(string protocol)
    {
        var a = await CreatePollAsync();
        var b = await CreatePollAsync(options: 2);
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        var view = new LiveView();
        await socket.SubscribeAsync(a);
        await socket.SubscribeAsync(b);
        await socket.ReceiveUntilAsync(_ => view.SeqOf(a) >= 0 && view.SeqOf(b) >= 0, view);

        await VoteOverHttpAsync(a, [1], [2]);
        await VoteOverHttpAsync(b, [2], [2], [1]);
        await socket.VoteAsync(a, [3], "ws-" + Guid.NewGuid(), "on-a");
        await socket.VoteAsync(b, [1], "ws-" + Guid.NewGuid(), "on-b");
        var acked = new HashSet<string>();
        await socket.ReceiveUntilAsync(m => IsType("ack")(m) && acked.Add((string)m["requestId"]!) && acked.Count == 2, view);

        foreach (var pollId in new[] { a, b })
        {
            var results = await Server.Client.ResultsAsync(pollId);
            await socket.ReceiveUntilSeqAsync(view, pollId, (long)results["seq"]!);
            Assert.Equal(ApiClient.Counts(results), view[pollId].Counts);
            Assert.Equal(1, view[pollId].Snapshots);
        }
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task After_unsubscribe_the_socket_gets_no_more_messages_of_that_poll(string protocol)
    {
        var a = await CreatePollAsync();
        var b = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        await using var other = await LiveSocket.ConnectAsync(Server, protocol);
        var view = new LiveView();
        var otherView = new LiveView();
        await socket.SubscribeAsync(a);
        await socket.SubscribeAsync(b);
        await socket.ReceiveUntilAsync(_ => view.SeqOf(a) >= 0 && view.SeqOf(b) >= 0, view);
        await other.SubscribeAsync(a);
        await other.ReceiveUntilAsync(IsType("snapshot"), otherView);

        await socket.SendAsync(new JsonObject { ["op"] = "unsubscribe", ["pollId"] = a });
        await socket.PingAsync(view); // ops are handled in order: the unsubscribe is done
        Assert.Equal(1, Server.Services.GetRequiredService<LiveHub>().WatcherCount(a));

        var voteOnA = await VoteOverHttpAsync(a, [1]);
        await other.ReceiveUntilSeqAsync(otherView, a, voteOnA); // the hub has sent that vote's delta
        var voteOnB = await VoteOverHttpAsync(b, [2]);
        await socket.ReceiveUntilSeqAsync(view, b, voteOnB); // a later message on the same socket

        Assert.DoesNotContain(socket.Received, m => (string?)m["pollId"] == a && (long)m["seq"]! >= voteOnA);
        Assert.Equal(1, otherView[a].Counts[1]);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Bad_ops_get_an_error_with_the_http_problem_type_and_the_socket_stays_open(string protocol)
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);

        await socket.SubscribeAsync("no-such-poll");
        var unknownPoll = await ExpectErrorAsync(socket, "poll-not-found");
        Assert.Equal("no-such-poll", (string?)unknownPoll["pollId"]);

        await socket.SendAsync(new JsonObject { ["op"] = "dance", ["requestId"] = "d1" });
        Assert.Equal("d1", (string?)(await ExpectErrorAsync(socket, "unknown-op"))["requestId"]);

        await socket.SendAsync(new JsonObject { ["pollId"] = pollId });
        await ExpectErrorAsync(socket, "unknown-op");

        await socket.SendAsync(new JsonObject { ["op"] = "subscribe", ["pollId"] = 5 });
        await ExpectErrorAsync(socket, "invalid-message");

        await socket.SendAsync(new JsonObject { ["op"] = "ping", ["requestId"] = "k1", ["pollID"] = pollId });
        var unknownKey = await ExpectErrorAsync(socket, "invalid-message");
        Assert.Equal("k1", (string?)unknownKey["requestId"]);
        Assert.Contains("pollID", (string?)unknownKey["error"]!["detail"], StringComparison.Ordinal);

        await socket.SendAsync(new JsonObject { ["op"] = "subscribe" });
        await ExpectErrorAsync(socket, "validation");

        await socket.SendAsync(new JsonObject { ["op"] = "ping", ["requestId"] = new string('r', 129) });
        Assert.Null((await ExpectErrorAsync(socket, "validation"))["requestId"]); // too long to echo

        await socket.SendRawAsync([], socket.IsMessagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text);
        await ExpectErrorAsync(socket, "invalid-message");

        if (socket.IsMessagePack)
        {
            await socket.SendRawAsync([0xc1], WebSocketMessageType.Binary); // 0xc1 is never used in MessagePack
            await ExpectErrorAsync(socket, "invalid-message");
            await socket.SendRawAsync([0x92, 0x01, 0x02], WebSocketMessageType.Binary); // [1, 2]: not a map
            await ExpectErrorAsync(socket, "invalid-message");
            await socket.SendRawAsync([0xdd, 0x7f, 0xff, 0xff, 0xff], WebSocketMessageType.Binary); // array32 header claiming 2^31 items
            await ExpectErrorAsync(socket, "invalid-message");
        }
        else
        {
            await socket.SendRawAsync(Encoding.UTF8.GetBytes("{not json"), WebSocketMessageType.Text);
            await ExpectErrorAsync(socket, "invalid-message");
            await socket.SendRawAsync(Encoding.UTF8.GetBytes("[1,2]"), WebSocketMessageType.Text);
            await ExpectErrorAsync(socket, "invalid-message");
            await socket.SendRawAsync(Encoding.UTF8.GetBytes("{\"op\":\"ping\"} {}"), WebSocketMessageType.Text);
            await ExpectErrorAsync(socket, "invalid-message");
            await socket.SendRawAsync(Encoding.UTF8.GetBytes("{\"op\":\"ping\",\"op\":\"ping\"}"), WebSocketMessageType.Text);
            await ExpectErrorAsync(socket, "invalid-message");
        }

        await socket.VoteAsync(pollId, [9], "v-" + Guid.NewGuid(), "bad-option");
        Assert.Equal("bad-option", (string?)(await ExpectErrorAsync(socket, "unknown-option"))["requestId"]);

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = pollId, ["voterId"] = "v", ["requestId"] = "no-options" });
        Assert.Equal("no-options", (string?)(await ExpectErrorAsync(socket, "validation"))["requestId"]);

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = pollId, ["optionIds"] = new JsonArray(1), ["voterId"] = "v" });
        await ExpectErrorAsync(socket, "validation"); // no requestId

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = pollId, ["optionIds"] = new JsonArray("one"), ["voterId"] = "v", ["requestId"] = "r" });
        await ExpectErrorAsync(socket, "invalid-message");

        await socket.VoteAsync("no-such-poll", [1], "v", "unknown-poll");
        Assert.Equal("unknown-poll", (string?)(await ExpectErrorAsync(socket, "poll-not-found"))["requestId"]);

        var voter = "twice-" + Guid.NewGuid();
        await socket.VoteAsync(pollId, [1], voter, "first");
        await socket.ReceiveUntilAsync(m => IsType("ack")(m) && (string?)m["requestId"] == "first");
        await socket.VoteAsync(pollId, [2], voter, "second");
        Assert.Equal("second", (string?)(await ExpectErrorAsync(socket, "already-voted"))["requestId"]);

        using (var close = await Server.Admin.PostAsync($"/v1/polls/{pollId}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        await socket.VoteAsync(pollId, [1], "late-" + Guid.NewGuid(), "late");
        await ExpectErrorAsync(socket, "poll-closed");

        await socket.PingAsync();
        Assert.Equal(WebSocketState.Open, socket.Socket.State);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Watchers_get_closed_when_the_poll_closes_and_on_subscribing_to_a_closed_poll(string protocol)
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        var view = new LiveView();
        await socket.SubscribeAsync(pollId);
        await socket.ReceiveUntilAsync(IsType("snapshot"), view);
        await VoteOverHttpAsync(pollId, [2]);
        using (var close = await Server.Admin.PostAsync($"/v1/polls/{pollId}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        var closed = await socket.ReceiveUntilAsync(IsType("closed"), view);
        Assert.Equal("closed", (string?)closed["status"]);
        var results = await Server.Client.ResultsAsync(pollId);
        Assert.Equal((long)results["seq"]!, (long)closed["seq"]!);
        Assert.Equal(ApiClient.Counts(results), view[pollId].Counts);

        await using var late = await LiveSocket.ConnectAsync(Server, protocol);
        await late.SubscribeAsync(pollId);
        var snapshot = await late.ReceiveAsync();
        Assert.Equal("snapshot", (string?)snapshot["type"]);
        Assert.Equal("closed", (string?)snapshot["status"]);
        Assert.Equal("closed", (string?)(await late.ReceiveAsync())["type"]);

        // A watcher that saw the last delta but dropped before "closed" resumes at the last seq: it still learns.
        await using var resumed = await LiveSocket.ConnectAsync(Server, protocol);
        await resumed.SubscribeAsync(pollId, since: (long)closed["seq"]!);
        var afterResume = await resumed.ReceiveAsync();
        Assert.Equal("closed", (string?)afterResume["type"]);
        Assert.Equal((long)closed["seq"]!, (long)afterResume["seq"]!);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_retried_vote_with_the_same_idempotency_key_is_counted_once(string protocol)
    {
        var pollId = await CreatePollAsync(dedupe: "none");
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        var key = "key-" + Guid.NewGuid();
        await socket.VoteAsync(pollId, [2], "v", "try-1", idempotencyKey: key);
        await socket.VoteAsync(pollId, [2], "v", "try-2", idempotencyKey: key);
        var first = await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "try-1");
        var second = await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "try-2");

        Assert.Equal("ack", (string?)second["type"]);
        Assert.Equal((string?)first["voteId"], (string?)second["voteId"]);
        Assert.Equal(1, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_frame_of_the_other_type_closes_with_1003(string protocol)
    {
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        // A well-formed message of the other subprotocol (a text frame must stay valid UTF-8, or the
        // WebSocket layer itself closes with 1007).
        var ping = LiveSocket.Encode(new JsonObject { ["op"] = "ping" }, messagePack: !socket.IsMessagePack);
        await socket.SendRawAsync(ping, socket.IsMessagePack ? WebSocketMessageType.Text : WebSocketMessageType.Binary);

        var (status, description) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, status);
        Assert.Contains(socket.IsMessagePack ? "binary" : "text", description, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task A_message_over_16_KiB_closes_with_1009(string protocol)
    {
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol);
        var pollId = await CreatePollAsync();
        await socket.SubscribeAsync(pollId);
        await socket.ReceiveUntilAsync(IsType("snapshot"));

        var big = LiveSocket.Encode(new JsonObject { ["op"] = "ping", ["requestId"] = new string('x', 17 * 1024) }, socket.IsMessagePack);
        await socket.SendRawAsync(big, socket.IsMessagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text);

        var (status, _) = await socket.ReceiveCloseAsync();
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, status);
        await Eventually(() => Server.Services.GetRequiredService<LiveHub>().WatcherCount(pollId) == 0);
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public async Task Compression_is_negotiated_when_offered_and_messages_still_arrive(string protocol)
    {
        var poll = await Server.Admin.CreatePollAsync(new
        {
            question = "Which long answer?",
            options = Enumerable.Range(1, 4).Select(i => $"Option {i}: " + string.Concat(Enumerable.Repeat("a fairly long answer text ", 4))).ToArray(),
        });
        var pollId = (string)poll["id"]!;
        await using var socket = await LiveSocket.ConnectAsync(Server, protocol, options =>
        {
            options.DangerousDeflateOptions = new WebSocketDeflateOptions();
            options.CollectHttpResponseDetails = true;
        });
        Assert.True(socket.Socket.HttpResponseHeaders!.TryGetValue("Sec-WebSocket-Extensions", out var extensions));
        Assert.Contains("permessage-deflate", string.Join(",", extensions), StringComparison.Ordinal);

        var view = new LiveView();
        await socket.SubscribeAsync(pollId); // the client's frames are compressed too
        await socket.ReceiveUntilAsync(IsType("snapshot"), view); // over the compression threshold
        await socket.VoteAsync(pollId, [4], "z-" + Guid.NewGuid(), "z");
        await VoteOverHttpAsync(pollId, [1], [4]);
        var results = await Server.Client.ResultsAsync(pollId);
        await socket.ReceiveUntilSeqAsync(view, pollId, (long)results["seq"]!);

        Assert.Equal(ApiClient.Counts(results), view[pollId].Counts);
        Assert.Contains(socket.Received, m => IsType("ack")(m));
    }

    [Fact]
    public async Task Without_a_subprotocol_the_socket_speaks_json()
    {
        var pollId = await CreatePollAsync();
        await using var socket = await LiveSocket.ConnectAsync(Server, subprotocol: null);
        Assert.Null(socket.Socket.SubProtocol);

        await socket.SubscribeAsync(pollId);
        var snapshot = await socket.ReceiveUntilAsync(IsType("snapshot"));
        Assert.Equal(pollId, (string?)snapshot["pollId"]);
    }

    [Fact]
    public async Task The_first_offered_subprotocol_that_the_server_speaks_is_chosen()
    {
        await using var socket = await LiveSocket.ConnectAsync(Server, "chat.v2", options =>
        {
            options.AddSubProtocol(LiveSocket.MessagePack);
            options.AddSubProtocol(LiveSocket.Json);
        });
        Assert.Equal(LiveSocket.MessagePack, socket.Socket.SubProtocol);
        await socket.PingAsync();
    }

    [Fact]
    public async Task Offering_only_unknown_subprotocols_is_a_400_problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/ws");
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Protocol", "chat.v2, tally.xml.v1");
        using var response = await Server.Client.SendAsync(request);

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "unsupported-subprotocol");
        Assert.Contains("tally.json.v1", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Contains("tally.msgpack.v1", (string?)problem["detail"], StringComparison.Ordinal);

        using var client = new ClientWebSocket();
        client.Options.AddSubProtocol("chat.v2");
        client.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => client.ConnectAsync(LiveSocket.WebSocketUri(Server), CancellationToken.None).WaitAsync(TestServer.Timeout));
        Assert.Equal(HttpStatusCode.BadRequest, client.HttpStatusCode);
    }

    [Fact]
    public async Task A_plain_http_request_is_a_400_problem()
    {
        using var response = await Server.Client.GetAsync("/v1/ws");
        await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "websocket-required");
    }

    private static Func<JsonObject, bool> IsType(string type) => m => (string?)m["type"] == type;

    private static async Task<JsonObject> ExpectErrorAsync(LiveSocket socket, string slug)
    {
        var message = await socket.ReceiveUntilAsync(IsType("error"));
        var error = message["error"]!.AsObject();
        Assert.True((string?)error["type"] == "urn:tally:problem:" + slug, $"expected {slug}: {message.ToJsonString()}");
        Assert.False(string.IsNullOrWhiteSpace((string?)error["title"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)error["detail"]));
        return message;
    }

    private static Task Eventually(Func<bool> condition) => Tally.Testing.Eventually.WaitUntilAsync(condition, TestServer.Timeout);

    private async Task<string> CreatePollAsync(int options = 3, string dedupe = "voter") =>
        (string)(await Server.Admin.CreatePollAsync(options, dedupe))["id"]!;

    /// <summary>Casts one vote per choice over HTTP, each by a new voter; returns the last vote's seq.</summary>
    private async Task<long> VoteOverHttpAsync(string pollId, params int[][] choices)
    {
        long seq = 0;
        foreach (var optionIds in choices)
        {
            using var response = await Server.Client.VoteAsync(pollId, optionIds, "http-" + Guid.NewGuid());
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            seq = (long)(await response.ReadJsonAsync())["seq"]!;
        }

        return seq;
    }
}
