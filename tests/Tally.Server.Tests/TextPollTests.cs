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

/// <summary>
/// Text polls (word clouds) through the real server: answers over HTTP, batch, both WebSocket subprotocols and gRPC, the terms
/// in results and live messages, bad input as problems, and the export. Moderation and blocked terms: <see cref="TextModerationTests"/>.
/// </summary>
public sealed class TextPollTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private TestServer Server => fixture.Server;

    public void Dispose() => _channel.Dispose();

    /// <summary>A text poll made over HTTP; its id.</summary>
    internal static async Task<string> CreateTextPollAsync(HttpClient admin, int maxLength = 60, bool moderation = false, string language = "en") =>
        (string)(await admin.CreatePollAsync(new { question = "One word for today?", kind = "text", maxLength, language, moderation }))["id"]!;

    internal static Task<HttpResponseMessage> AnswerAsync(HttpClient client, string pollId, string? text, string voterId) =>
        client.PostAsJsonAsync($"/v1/polls/{pollId}/votes", new { text, voterId });

    /// <summary>A <c>text</c> object (results, live message) in one line: answers / held, then each term with its count.</summary>
    internal static string Cloud(JsonNode? text) =>
        $"{(long)text!["answers"]!}/{(int)text["held"]!}:" + string.Concat(text["terms"]!.AsArray().Select(t => $" {(string)t!["term"]!}={(long)t["count"]!}"));

    [Fact]
    public async Task Answers_over_HTTP_count_into_the_terms_of_the_results_and_the_stream()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "One word for today?", kind = "text", maxLength = 60 });
        Assert.Equal("text", (string?)poll["kind"]);
        Assert.Empty(poll["options"]!.AsArray());
        var id = (string)poll["id"]!;
        var read = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{id}"))!;
        Assert.Equal("text", (string?)read["kind"]);
        // The poll says its rules, so a client can size its input and tell the audience answers are moderated.
        Assert.Equal((60, "en", false), ((int)read["text"]!["maxLength"]!, (string?)read["text"]!["language"], (bool)read["text"]!["moderation"]!));
        Assert.Null((await Server.Admin.CreatePollAsync())["text"]);

        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        var snapshot = await sse.NextAsync();
        Assert.Equal("snapshot", snapshot.Name);
        Assert.Equal("0/0:", Cloud(snapshot.Data["text"]));
        Assert.Equal(1024, (int)snapshot.Data["text"]!["capacity"]!);

        long seq = 0;
        foreach (var (text, voter) in new[] { ("  Great talks, GREAT people!  ", "ann"), ("great food", "bob"), ("The talks were long", "cy") })
        {
            using var vote = await AnswerAsync(Server.Client, id, text, voter);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            var body = await vote.ReadJsonAsync();
            Assert.Equal(("counted", $"{id}-{(long)body["seq"]!}"), ((string?)body["status"], (string?)body["voteId"]));
            seq = (long)body["seq"]!;
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal(3, (long)results["totalVotes"]!);
        Assert.Empty(results["options"]!.AsArray());
        Assert.Equal("3/0: great=2 talks=2 food=1 long=1 people=1", Cloud(results["text"]));
        Assert.Null(results["text"]!["terms"]![0]!["error"]); // exact: left out while 0

        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < seq);

        Assert.Equal("3/0: great=2 talks=2 food=1 long=1 people=1", Cloud(delta.Data["text"]));
        Assert.Null((await Server.Client.ResultsAsync((string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!))["text"]); // a choice poll's results are as before

        using var again = await AnswerAsync(Server.Client, id, "more words", "ann");
        await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "already-voted");
    }

    [Fact]
    public async Task A_batch_takes_text_answers_beside_ballots_and_refuses_each_bad_one_on_its_own()
    {
        var text = await CreateTextPollAsync(Server.Admin, maxLength: 12);
        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;

        using var response = await Server.Client.PostAsJsonAsync("/v1/votes/batch", new
        {
            votes = new object[]
            {
                new { pollId = text, text = "Blue sky", voterId = "a" },
                new { pollId = choice, optionIds = new[] { 1 }, voterId = "a" },
                new { pollId = text, text = "", voterId = "b" },
                new { pollId = text, text = "far too long an answer", voterId = "c" },
                new { pollId = choice, text = "words", voterId = "d" },
                new { pollId = text, text = "blue sea", voterId = "e" },
            },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync())["results"]!.AsArray();
        Assert.True(results.Select(r => (string)r!["status"]!).SequenceEqual(["counted", "counted", "rejected", "rejected", "rejected", "counted"]), results.ToJsonString());
        Assert.All(new[] { 2, 3, 4 }, i => Assert.Equal("urn:tally:problem:validation", (string?)results[i]!["error"]!["type"]));
        Assert.Equal("2/0: blue=2 sea=1 sky=1", Cloud((await Server.Client.ResultsAsync(text))["text"]));
        Assert.Equal(1, ApiClient.Counts(await Server.Client.ResultsAsync(choice))[1]);

        // optionIds on a text poll inside a batch
        using var withIds = await Server.Client.PostAsJsonAsync("/v1/votes/batch", new { votes = new object[] { new { pollId = text, optionIds = new[] { 1 }, voterId = "f" } } });
        Assert.Equal(HttpStatusCode.OK, withIds.StatusCode);
        Assert.Equal("urn:tally:problem:validation", (string?)(await withIds.ReadJsonAsync())["results"]![0]!["error"]!["type"]);
    }

    [Theory]
    [InlineData(LiveSocket.Json)]
    [InlineData(LiveSocket.MessagePack)]
    public async Task Over_a_WebSocket_a_vote_op_takes_text_and_the_delta_carries_the_terms(string subprotocol)
    {
        var id = await CreateTextPollAsync(Server.Admin, maxLength: 20);
        await using var socket = await LiveSocket.ConnectAsync(Server, subprotocol);
        await socket.SubscribeAsync(id);
        var snapshot = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
        Assert.Equal("0/0:", Cloud(snapshot["text"]));

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["text"] = "Sunny day", ["voterId"] = "ann", ["requestId"] = "r1" });
        var first = await socket.ReceiveUntilAsync(m => (string?)m["type"] is "ack" or "error" && (string?)m["requestId"] == "r1");
        Assert.True((string?)first["type"] == "ack" && (string?)first["status"] == "counted", first.ToJsonString());
        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["text"] = "sunny evening", ["voterId"] = "bob", ["requestId"] = "r2" });
        var second = await socket.ReceiveUntilAsync(m => (string?)m["type"] is "ack" or "error" && (string?)m["requestId"] == "r2");
        Assert.Equal("ack", (string?)second["type"]);
        var seq = (long)second["seq"]!;

        var delta = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "delta" && (long)m["seq"]! >= seq);
        Assert.Equal("2/0: sunny=2 day=1 evening=1", Cloud(delta["text"]));

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["text"] = "an answer far over twenty", ["voterId"] = "cy", ["requestId"] = "r3" });
        var tooLong = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error" && (string?)m["requestId"] == "r3");
        Assert.Equal("urn:tally:problem:validation", (string?)tooLong["error"]!["type"]);
        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["optionIds"] = new JsonArray(1), ["voterId"] = "cy", ["requestId"] = "r4" });
        var withIds = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error" && (string?)m["requestId"] == "r4");
        Assert.Equal("urn:tally:problem:validation", (string?)withIds["error"]!["type"]);
        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["text"] = 5, ["voterId"] = "cy", ["requestId"] = "r5" });
        var number = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error");
        Assert.NotNull(number["error"]!["type"]);

        await socket.PingAsync(); // every op so far was handled; the socket is still open
        Assert.Equal("2/0: sunny=2 day=1 evening=1", Cloud((await Server.Client.ResultsAsync(id))["text"]));
    }

    [Fact]
    public async Task Over_gRPC_a_vote_takes_text_and_watchers_get_the_text_summary()
    {
        var client = new LiveClient(_channel);
        var id = await CreateTextPollAsync(Server.Admin, maxLength: 20);
        using var watcher = new GrpcWatcher(client, id);
        var snapshot = (await watcher.NextAsync())!;
        Assert.Equal("text", snapshot.Kind);
        Assert.NotNull(snapshot.Text);
        Assert.Equal((0L, 0, 1024), (snapshot.Text.Answers, snapshot.Text.Held, snapshot.Text.Capacity));

        var reply = await client.VoteAsync(new VoteRequest { PollId = id, Text = "Rainy rainy day", VoterId = "ann" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout));
        Assert.Equal(VoteStatus.Counted, reply.Status);
        reply = await client.VoteAsync(new VoteRequest { PollId = id, Text = "cold day", VoterId = "bob" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout));
        await watcher.ReadUntilSeqAsync(reply.Seq);
        var last = watcher.Received[^1].Text;
        Assert.Equal(2L, last.Answers);
        Assert.Equal(["day=2", "cold=1", "rainy=1"], last.Terms.Select(t => $"{t.Term}={t.Count}"));

        foreach (var (request, slug) in new[]
        {
            (new VoteRequest { PollId = id, Text = "an answer far over twenty", VoterId = "cy" }, "validation"),
            (new VoteRequest { PollId = id, Text = "", VoterId = "cy" }, "validation"),
            (new VoteRequest { PollId = id, OptionIds = { 1 }, VoterId = "cy" }, "validation"),
            (new VoteRequest { PollId = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!, Text = "words", VoterId = "cy" }, "validation"),
        })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => client.VoteAsync(request, deadline: DateTime.UtcNow.Add(TestServer.Timeout)).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
            Assert.Equal("urn:tally:problem:" + slug, refused.Trailers.GetValue("tally-problem-type"));
        }

        Assert.Equal("2/0: day=2 cold=1 rainy=1", Cloud((await Server.Client.ResultsAsync(id))["text"]));
    }

    [Theory]
    [InlineData("", "validation")]
    [InlineData("   ", "validation")]
    [InlineData("twenty-one characters", "validation")]
    [InlineData("bell\u0007", "validation")]
    public async Task A_text_answer_the_poll_cannot_take_is_a_problem_and_nothing_is_counted(string text, string slug)
    {
        var id = await CreateTextPollAsync(Server.Admin, maxLength: 20);

        using var response = await AnswerAsync(Server.Client, id, text, "ann");

        await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, slug);
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(id))["totalVotes"]!);
    }

    [Fact]
    public async Task Text_on_a_choice_poll_and_option_ids_or_a_value_on_a_text_poll_are_problems()
    {
        var id = await CreateTextPollAsync(Server.Admin);
        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        var rating = (string)(await Server.Admin.CreatePollAsync(new { question = "Rate", kind = "rating" }))["id"]!;

        foreach (var (poll, body) in new (string, object)[]
        {
            (choice, new { text = "words", voterId = "a" }),
            (rating, new { text = "words", voterId = "a" }),
            (choice, new { text = "words", optionIds = new[] { 1 }, voterId = "a" }),
            (id, new { optionIds = new[] { 1 }, voterId = "a" }),
            (id, new { value = 3, voterId = "a" }),
            (id, new { text = "words", optionIds = new[] { 1 }, voterId = "a" }),
            (id, new { voterId = "a" }),
        })
        {
            using var response = await Server.Client.PostAsJsonAsync($"/v1/polls/{poll}/votes", body);
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var number = await Server.Client.PostRawAsync($"/v1/polls/{id}/votes", """{"text":42,"voterId":"a"}"""))
        {
            await ApiClient.AssertProblemAsync(number, HttpStatusCode.BadRequest, "invalid-json"); // a string only as a JSON string
        }

        using (var unknown = await Server.Client.PostAsJsonAsync("/v1/polls/nosuchpoll/votes", new { text = "words", voterId = "a" }))
        {
            await ApiClient.AssertProblemAsync(unknown, HttpStatusCode.NotFound, "poll-not-found");
        }

        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(id))["totalVotes"]!);
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(choice))["totalVotes"]!);
    }

    [Theory]
    [InlineData("""{"question":"q","kind":"text","maxLength":0}""", "maxLength")]
    [InlineData("""{"question":"q","kind":"text","maxLength":501}""", "maxLength")]
    [InlineData("""{"question":"q","kind":"text","language":"xx"}""", "language")]
    [InlineData("""{"question":"q","kind":"text","allowChange":true}""", "allowChange")]
    [InlineData("""{"question":"q","kind":"text","options":["a","b"]}""", "options")]
    [InlineData("""{"question":"q","kind":"text","maxChoices":2}""", "maxChoices")]
    [InlineData("""{"question":"q","options":["a","b"],"maxLength":20}""", "maxLength")]
    [InlineData("""{"question":"q","options":["a","b"],"moderation":true}""", "maxLength")]
    [InlineData("""{"question":"q","kind":"rating","language":"fr"}""", "maxLength")]
    [InlineData("""{"question":" ","kind":"text"}""", "question")]
    public async Task A_text_poll_with_wrong_settings_is_refused_naming_the_field(string body, string field)
    {
        using var response = await Server.Admin.PostRawAsync("/v1/polls", body);

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Theory]
    [InlineData("""{"question":"q","kind":"text","maxLength":"60"}""")]
    [InlineData("""{"question":"q","kind":"text","moderation":"yes"}""")]
    [InlineData("""{"question":"q","kind":"text","language":1}""")]
    public async Task A_text_poll_with_settings_of_the_wrong_json_type_is_a_bad_request(string body)
    {
        using var response = await Server.Admin.PostRawAsync("/v1/polls", body);

        await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
    }

    [Fact]
    public async Task The_export_of_a_text_poll_has_every_answer_with_its_text_and_terms_and_each_moderation()
    {
        var id = await CreateTextPollAsync(Server.Admin, moderation: true);
        foreach (var (text, voter) in new[] { ("Great talks", "ann"), ("Spam, spam", "bob"), ("Kept waiting, \"quoted\"", "cy") })
        {
            using var vote = await AnswerAsync(Server.Client, id, text, voter);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using (var approve = await Server.Admin.PostAsync($"/v1/polls/{id}/answers/{id}-2/approve", null))
        {
            Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        }

        using (var reject = await Server.Admin.PostAsync($"/v1/polls/{id}/answers/{id}-3/reject", null))
        {
            Assert.Equal(HttpStatusCode.OK, reject.StatusCode);
        }

        using var ndjson = await Server.Admin.GetAsync($"/v1/polls/{id}/export?voters=raw");
        Assert.Equal(HttpStatusCode.OK, ndjson.StatusCode);
        var lines = (await ndjson.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();
        Assert.Equal(["poll", "answered", "answered", "answered", "approved", "rejected", "results"], lines.Select(l => (string)l["type"]!));
        Assert.Equal(($"{id}-2", "ann", "Great talks", """["great","talks"]""", true), ((string?)lines[1]["voteId"], (string?)lines[1]["voter"], (string?)lines[1]["text"], lines[1]["terms"]!.ToJsonString(), (bool)lines[1]["held"]!));
        Assert.Equal("Kept waiting, \"quoted\"", (string?)lines[3]["text"]);
        Assert.Equal(($"{id}-2", $"{id}-3"), ((string?)lines[4]["voteId"], (string?)lines[5]["voteId"]));
        Assert.Equal("1/1: great=1 talks=1", Cloud(lines[6]["results"]!["text"]));

        using var csv = await Server.Admin.GetAsync($"/v1/polls/{id}/export?format=csv&voters=raw");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        var rows = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("seq,at,type,vote_id,voter,option_ids,previous_option_ids,value", rows[0], StringComparison.Ordinal);
        Assert.Equal(3, rows.Count(r => r.Contains(",answered-held,", StringComparison.Ordinal)));
        Assert.Contains(rows, r => r.EndsWith($",answered-held,{id}-4,cy,,,\"Kept waiting, \"\"quoted\"\"\"", StringComparison.Ordinal)); // the text in the value column
        Assert.Contains(rows, r => r.Contains($",approved,{id}-2,", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains($",rejected,{id}-3,", StringComparison.Ordinal));
    }
}
