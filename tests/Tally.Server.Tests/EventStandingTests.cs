using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;

namespace Tally.Server.Tests;

/// <summary>A participant's own standing pushed on their socket: at once, after every reveal, and at the end; each the rank <c>leaderboard/me</c> gives.</summary>
public sealed class EventStandingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;

    private async Task<JsonObject> PostAsync(string path, object? body = null)
    {
        using var response = body is null ? await Server.Admin.PostAsync(path, null) : await Server.Admin.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static object Quiz(string question, int correct) =>
        new { question, kind = "quiz", options = new[] { "A", "B", "C" }, correct = new[] { correct }, points = 1000, timeLimitSeconds = 600 };

    private static Task FollowAsync(LiveSocket socket, string eventId, string voterId, string requestId) =>
        socket.SendAsync(new JsonObject { ["op"] = "standing", ["pollId"] = eventId, ["voterId"] = voterId, ["requestId"] = requestId });

    private static Task<JsonObject> NextStandingAsync(LiveSocket socket) => socket.ReceiveUntilAsync(m => (string?)m["type"] is "standing" or "error");

    private async Task<(int Rank, long Score)> MeAsync(string eventId, string voterId)
    {
        var me = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/events/{eventId}/leaderboard/me?voterId={voterId}"))!;
        return ((int)me["rank"]!, (long)me["score"]!);
    }

    [Fact]
    public async Task Each_participant_gets_their_own_standing_after_every_reveal_on_json_and_messagepack_sockets()
    {
        var created = await PostAsync("/v1/events", new { title = "Standings", questions = new[] { Quiz("One?", 2), Quiz("Two?", 3) } });
        var id = (string)created["id"]!;
        foreach (var (voter, name) in new[] { ("ada", "Ada"), ("bob", "Bob"), ("cy", "Cy") })
        {
            using var join = await Server.Client.PostAsJsonAsync($"/v1/events/{id}/join", new { name, voterId = voter });
            Assert.Equal(HttpStatusCode.OK, join.StatusCode);
        }

        await using var ada = await LiveSocket.ConnectAsync(Server, LiveSocket.Json);
        await using var bob = await LiveSocket.ConnectAsync(Server, LiveSocket.MessagePack);
        foreach (var (socket, voter) in new[] { (ada, "ada"), (bob, "bob") })
        {
            await socket.SubscribeAsync(id);
            await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
            await FollowAsync(socket, id, voter, "s-" + voter);
            var now = await NextStandingAsync(socket);
            Assert.Equal(("standing", id, "s-" + voter, 0L), ((string?)now["type"], (string?)now["pollId"], (string?)now["requestId"], (long)now["score"]!));
            Assert.Equal(await MeAsync(id, voter), ((int)now["rank"]!, 0L));
        }

        await PostAsync($"/v1/events/{id}/start");
        await PostAsync($"/v1/events/{id}/questions/1/show");
        foreach (var (voter, option) in new[] { ("ada", 1), ("bob", 2), ("cy", 2) })
        {
            using var answer = await Server.Client.VoteAsync(id + "q1", [option], voter);
            Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        }

        await PostAsync($"/v1/events/{id}/reveal");
        foreach (var (socket, voter) in new[] { (ada, "ada"), (bob, "bob") })
        {
            var pushed = await NextStandingAsync(socket);
            Assert.Equal("standing", (string?)pushed["type"]);
            Assert.Null(pushed["requestId"]); // a push, not an answer
            Assert.Equal(await MeAsync(id, voter), ((int)pushed["rank"]!, (long)pushed["score"]!));
            Assert.Equal((1, 1), ((int)pushed["answered"]!, (int)pushed["correct"]! + (voter == "ada" ? 1 : 0)));
        }

        Assert.Equal(3, (await MeAsync(id, "ada")).Rank); // the wrong answer is last

        // The next question: showing it is no leaderboard moment; its reveal and the end are.
        await PostAsync($"/v1/events/{id}/questions/2/show");
        using (var late = await Server.Client.VoteAsync(id + "q2", [3], "ada"))
        {
            Assert.Equal(HttpStatusCode.Created, late.StatusCode);
        }

        await PostAsync($"/v1/events/{id}/reveal");
        var second = await NextStandingAsync(ada);
        Assert.Equal((2, await MeAsync(id, "ada")), ((int)second["answered"]!, ((int)second["rank"]!, (long)second["score"]!)));
        Assert.True((long)second["score"]! > 0);
        await NextStandingAsync(bob);

        await PostAsync($"/v1/events/{id}/end");
        foreach (var (socket, voter) in new[] { (ada, "ada"), (bob, "bob") })
        {
            var final = await NextStandingAsync(socket);
            Assert.Equal(await MeAsync(id, voter), ((int)final["rank"]!, (long)final["score"]!));
        }

        // Nothing more: a ping's pong is the next message on each socket.
        foreach (var socket in new[] { ada, bob })
        {
            await socket.SendAsync(new JsonObject { ["op"] = "ping", ["requestId"] = "p" });
            var next = await socket.ReceiveUntilAsync(m => (string?)m["type"] is "pong" or "standing");
            Assert.Equal("pong", (string?)next["type"]);
        }
    }

    [Fact]
    public async Task A_standing_needs_a_subscribed_event_and_a_participant()
    {
        var created = await PostAsync("/v1/events", new { title = "Refusals", questions = new[] { Quiz("One?", 1) } });
        var id = (string)created["id"]!;
        var poll = (string)(await Server.Admin.CreatePollAsync())["id"]!;
        await using var socket = await LiveSocket.ConnectAsync(Server, LiveSocket.Json);

        await FollowAsync(socket, id, "ada", "r1"); // not subscribed
        var unsubscribed = await NextStandingAsync(socket);
        Assert.Equal(("error", "r1", "urn:tally:problem:validation"), ((string?)unsubscribed["type"], (string?)unsubscribed["requestId"], (string?)unsubscribed["error"]!["type"]));

        await socket.SubscribeAsync(poll);
        await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
        await FollowAsync(socket, poll, "ada", "r2"); // a poll, not an event
        Assert.Equal("urn:tally:problem:validation", (string?)(await NextStandingAsync(socket))["error"]!["type"]);

        await socket.SubscribeAsync(id);
        await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot" && (string?)m["pollId"] == id);
        await FollowAsync(socket, id, "zed", "r3"); // not a participant
        var outsider = await NextStandingAsync(socket);
        Assert.Equal(("error", "r3", "urn:tally:problem:not-joined"), ((string?)outsider["type"], (string?)outsider["requestId"], (string?)outsider["error"]!["type"]));

        foreach (var bad in new JsonObject[]
        {
            new() { ["op"] = "standing", ["requestId"] = "r4" },
            new() { ["op"] = "standing", ["pollId"] = "not an id!", ["requestId"] = "r5" },
            new() { ["op"] = "standing", ["pollId"] = id, ["voterId"] = new string('x', 500), ["requestId"] = "r6" },
        })
        {
            await socket.SendAsync(bad);
            var answer = await NextStandingAsync(socket);
            Assert.Equal(("error", (string?)bad["requestId"]), ((string?)answer["type"], (string?)answer["requestId"]));
            Assert.StartsWith("urn:tally:problem:", (string?)answer["error"]!["type"], StringComparison.Ordinal);
        }
    }
}
