using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests;

/// <summary>Rating and nps polls through the real server: HTTP, SSE, both WebSocket subprotocols and gRPC.</summary>
public sealed class ScaleKindTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private TestServer Server => fixture.Server;

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task A_rating_poll_takes_values_and_its_results_carry_the_distribution_and_the_mean()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "How was the talk?", kind = "rating", scale = new { min = 1, max = 5 } });
        Assert.Equal("rating", (string?)poll["kind"]);
        Assert.Equal(1, (int)poll["scale"]!["min"]!);
        Assert.Equal(5, (int)poll["scale"]!["max"]!);
        Assert.Equal([(1, "1", 1), (5, "5", 5)], new[] { 0, 4 }.Select(i => ((int)poll["options"]![i]!["id"]!, (string)poll["options"]![i]!["text"]!, (int)poll["options"]![i]!["value"]!)));
        var id = (string)poll["id"]!;

        foreach (var (value, voter) in new[] { (5, "ann"), (4, "bob"), (4, "cy") })
        {
            using var vote = await VoteValueAsync(id, value, voter);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using (var byOption = await Server.Client.VoteAsync(id, [1], "dee")) // option 1 is the value 1: the old shape still works
        {
            Assert.Equal(HttpStatusCode.Created, byOption.StatusCode);
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal(4, (long)results["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 0, [3] = 0, [4] = 2, [5] = 1 }, ApiClient.Counts(results));
        Assert.Equal(4, (int)results["options"]![3]!["value"]!);
        var summary = results["summary"]!;
        Assert.Equal(4, (long)summary["count"]!);
        Assert.Equal(14, (long)summary["sum"]!);
        Assert.Equal(3.5, (double)summary["mean"]!);
        Assert.Null(summary["nps"]);

        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        Assert.Null((await Server.Client.ResultsAsync(choice))["summary"]); // a choice poll's results are as before
    }

    [Fact]
    public async Task Bad_values_are_refused_with_a_problem_and_nothing_is_counted()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(new { question = "Rate it", kind = "rating", scale = new { min = 0, max = 10 } }))["id"]!;

        using (var off = await VoteValueAsync(id, 11, "a"))
        {
            var problem = await ApiClient.AssertProblemAsync(off, HttpStatusCode.UnprocessableEntity, "unknown-option");
            Assert.Contains("0 to 10", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        using (var both = await Server.Client.PostAsJsonAsync($"/v1/polls/{id}/votes", new { value = 3, optionIds = new[] { 4 }, voterId = "b" }))
        {
            await ApiClient.AssertProblemAsync(both, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var neither = await Server.Client.PostAsJsonAsync($"/v1/polls/{id}/votes", new { voterId = "c" }))
        {
            var problem = await ApiClient.AssertProblemAsync(neither, HttpStatusCode.UnprocessableEntity, "validation");
            Assert.Contains("value is required", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        using (var text = await Server.Client.PostRawAsync($"/v1/polls/{id}/votes", """{"value":"3","voterId":"d"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode); // a number only as a JSON number
        }

        using (var fraction = await Server.Client.PostRawAsync($"/v1/polls/{id}/votes", """{"value":3.5,"voterId":"e"}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, fraction.StatusCode);
        }

        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var onChoice = await VoteValueAsync(choice, 1, "f"))
        {
            await ApiClient.AssertProblemAsync(onChoice, HttpStatusCode.UnprocessableEntity, "validation");
        }

        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(id))["totalVotes"]!);
    }

    [Theory]
    [InlineData("""{"question":"q","kind":"rating","options":["a","b"]}""", "options")]
    [InlineData("""{"question":"q","kind":"rating","scale":{"min":3,"max":3}}""", "scale")]
    [InlineData("""{"question":"q","kind":"rating","scale":{"min":-500,"max":5}}""", "scale")]
    [InlineData("""{"question":"q","kind":"rating","maxChoices":2}""", "maxChoices")]
    [InlineData("""{"question":"q","kind":"nps","scale":{"min":1,"max":10}}""", "scale")]
    [InlineData("""{"question":"q","kind":"nps","options":["a","b"]}""", "options")]
    [InlineData("""{"question":"q","kind":"single","options":["a","b"],"scale":{}}""", "scale")]
    [InlineData("""{"question":"q","kind":"stars"}""", "kind")]
    public async Task A_poll_with_a_wrong_scale_is_refused_naming_the_field(string body, string field)
    {
        using var response = await Server.Admin.PostRawAsync("/v1/polls", body);

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task A_batch_takes_values_beside_option_ids()
    {
        var rating = (string)(await Server.Admin.CreatePollAsync(new { question = "Rate", kind = "rating" }))["id"]!;
        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;

        using var response = await Server.Client.PostAsJsonAsync("/v1/votes/batch", new
        {
            votes = new object[]
            {
                new { pollId = rating, value = 2, voterId = "a" },
                new { pollId = choice, optionIds = new[] { 1 }, voterId = "a" },
                new { pollId = rating, value = 9, voterId = "b" },
            },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync())["results"]!.AsArray();
        Assert.Equal(["counted", "counted", "rejected"], results.Select(r => (string)r!["status"]!));
        Assert.EndsWith("unknown-option", (string)results[2]!["error"]!["type"]!, StringComparison.Ordinal);
        Assert.Equal(2.0, (double)(await Server.Client.ResultsAsync(rating))["summary"]!["mean"]!);
    }

    [Fact]
    public async Task An_nps_polls_watchers_see_the_score_move_over_server_sent_events()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "Would you recommend us?", kind = "nps" });
        Assert.Equal(0, (int)poll["scale"]!["min"]!);
        Assert.Equal(10, (int)poll["scale"]!["max"]!);
        Assert.Equal(11, poll["options"]!.AsArray().Count);
        var id = (string)poll["id"]!;

        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        var snapshot = await sse.NextAsync();
        Assert.Equal("snapshot", snapshot.Name);
        Assert.Equal(0, (long)snapshot.Data["summary"]!["count"]!);
        Assert.Null(snapshot.Data["summary"]!["mean"]);
        Assert.Null(snapshot.Data["summary"]!["nps"]!["score"]);
        Assert.Equal(10, (int)snapshot.Data["options"]![10]!["value"]!);

        long seq = 0;
        foreach (var (value, voter) in new[] { (10, "a"), (9, "b"), (3, "c") })
        {
            using var vote = await VoteValueAsync(id, value, voter);
            seq = (long)(await vote.ReadJsonAsync())["seq"]!;
        }

        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < seq);

        var summary = delta.Data["summary"]!;
        Assert.Equal(3, (long)summary["count"]!);
        Assert.Equal(7.33, (double)summary["mean"]!); // 22 / 3
        var nps = summary["nps"]!;
        Assert.Equal((2, 0, 1), ((long)nps["promoters"]!, (long)nps["passives"]!, (long)nps["detractors"]!));
        Assert.Equal(33.3, (double)nps["score"]!); // (2 - 1) / 3
    }

    [Theory]
    [InlineData(LiveSocket.Json)]
    [InlineData(LiveSocket.MessagePack)]
    public async Task Over_a_WebSocket_a_vote_op_takes_a_value_and_the_delta_carries_the_summary(string subprotocol)
    {
        var id = (string)(await Server.Admin.CreatePollAsync(new { question = "Rate", kind = "rating", scale = new { min = -2, max = 2 } }))["id"]!;
        await using var socket = await LiveSocket.ConnectAsync(Server, subprotocol);
        await socket.SubscribeAsync(id);
        var snapshot = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
        Assert.Equal(-2, (int)snapshot["options"]![0]!["value"]!);
        Assert.Null(snapshot["summary"]!["mean"]);

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["value"] = -1, ["voterId"] = "ann", ["requestId"] = "r1" });
        var ack = await socket.ReceiveUntilAsync(m => (string?)m["type"] is "ack" or "error");
        Assert.Equal("ack", (string?)ack["type"]);
        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["value"] = 2, ["voterId"] = "bob", ["requestId"] = "r2" });
        var second = await socket.ReceiveUntilAsync(m => (string?)m["type"] is "ack" or "error");
        var seq = (long)second["seq"]!;

        var delta = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "delta" && (long)m["seq"]! >= seq);
        Assert.Equal(2, (long)delta["summary"]!["count"]!);
        Assert.Equal(1, (long)delta["summary"]!["sum"]!);
        Assert.Equal(0.5, (double)delta["summary"]!["mean"]!);

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["value"] = 3, ["voterId"] = "cy", ["requestId"] = "r3" });
        var off = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error" && (string?)m["requestId"] == "r3");
        Assert.EndsWith("unknown-option", (string)off["error"]!["type"]!, StringComparison.Ordinal);
        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["value"] = "high", ["voterId"] = "cy", ["requestId"] = "r4" });
        var text = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error");
        Assert.Contains("whole number", (string)text["error"]!["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_gRPC_a_vote_takes_a_value_and_watchers_get_the_kind_values_and_summary()
    {
        var client = new LiveClient(_channel);
        var id = (string)(await Server.Admin.CreatePollAsync(new { question = "Rate", kind = "rating", scale = new { min = 1, max = 4 } }))["id"]!;
        using var watcher = new GrpcWatcher(client, id);
        var snapshot = (await watcher.NextAsync())!;
        Assert.Equal("rating", snapshot.Kind);
        Assert.Equal([1, 2, 3, 4], snapshot.Options.Select(o => o.Value));
        Assert.Equal(0, snapshot.Summary.Count);
        Assert.False(snapshot.Summary.HasMean);

        var reply = await client.VoteAsync(new VoteRequest { PollId = id, Value = 3, VoterId = "ann" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout));
        Assert.Equal(VoteStatus.Counted, reply.Status);
        await watcher.ReadUntilSeqAsync(reply.Seq);
        var last = watcher.Received[^1];
        Assert.Equal(1, last.Summary.Count);
        Assert.Equal(3.0, last.Summary.Mean);

        var off = await Assert.ThrowsAsync<RpcException>(() => client.VoteAsync(new VoteRequest { PollId = id, Value = 5, VoterId = "bob" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, off.StatusCode);
        Assert.Equal("urn:tally:problem:unknown-option", off.Trailers.GetValue("tally-problem-type"));
        var both = await Assert.ThrowsAsync<RpcException>(() => client.VoteAsync(new VoteRequest { PollId = id, Value = 2, OptionIds = { 2 }, VoterId = "bob" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout)).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, both.StatusCode);
        Assert.Equal("urn:tally:problem:validation", both.Trailers.GetValue("tally-problem-type"));
    }

    private Task<HttpResponseMessage> VoteValueAsync(string pollId, int value, string voterId) =>
        Server.Client.PostAsJsonAsync($"/v1/polls/{pollId}/votes", new { value, voterId });
}
