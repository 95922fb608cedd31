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
/// Q&amp;A polls through the real server: questions and upvotes over HTTP, batch, both WebSocket subprotocols and gRPC, the
/// ranked questions in results and live messages, and bad input as problems. Moderation, answered, export, restart:
/// <see cref="QuestionModerationTests"/>.
/// </summary>
public sealed class QuestionPollTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private TestServer Server => fixture.Server;

    public void Dispose() => _channel.Dispose();

    internal static async Task<string> CreateQaPollAsync(HttpClient admin, int maxLength = 80, bool moderation = false, int maxQuestionsPerVoter = 5) =>
        (string)(await admin.CreatePollAsync(new { question = "Questions for the speaker?", kind = "questions", maxLength, moderation, maxQuestionsPerVoter }))["id"]!;

    internal static Task<HttpResponseMessage> AskAsync(HttpClient client, string pollId, string text, string voterId) =>
        client.PostAsJsonAsync($"/v1/polls/{pollId}/votes", new { text, voterId });

    internal static Task<HttpResponseMessage> UpvoteAsync(HttpClient client, string pollId, string questionId, string voterId) =>
        client.PostAsJsonAsync($"/v1/polls/{pollId}/votes", new { upvote = questionId, voterId });

    /// <summary>A <c>questions</c> object in one line: asked / held, then each question as seq=votes (* once answered).</summary>
    internal static string Board(JsonNode? questions) =>
        $"{(long)questions!["asked"]!}/{(int)questions["held"]!}:" + string.Concat(questions["items"]!.AsArray().Select(q =>
            $" {((string)q!["id"]!).Split('-')[1]}={(long)q["votes"]!}" + ((bool)q["answered"]! ? "*" : "")));

    private static async Task<string> VoteIdAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (string)(await response.ReadJsonAsync())["voteId"]!;
    }

    [Fact]
    public async Task Questions_and_upvotes_over_HTTP_rank_in_the_results_and_the_stream()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "Questions?", kind = "questions" });
        Assert.Equal("questions", (string?)poll["kind"]);
        Assert.Empty(poll["options"]!.AsArray());
        Assert.Equal((280, false, 5), ((int)poll["questions"]!["maxLength"]!, (bool)poll["questions"]!["moderation"]!, (int)poll["questions"]!["maxQuestionsPerVoter"]!)); // the poll says its rules
        var id = (string)poll["id"]!;

        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        var snapshot = await sse.NextAsync();
        Assert.Equal("0/0:", Board(snapshot.Data["questions"]));

        using (var first = await AskAsync(Server.Client, id, "  Why tabs?  ", "ann"))
        {
            Assert.Equal($"{id}-2", await VoteIdAsync(first));
        }

        using (var second = await AskAsync(Server.Client, id, "Why spaces?", "bob"))
        {
            Assert.Equal($"{id}-3", await VoteIdAsync(second));
        }

        long seq = 0;
        foreach (var (question, voter) in new[] { ($"{id}-3", "ann"), ("3", "cy"), ($"{id}-2", "ann") }) // the seq alone names the question too
        {
            using var up = await UpvoteAsync(Server.Client, id, question, voter);
            Assert.Equal(HttpStatusCode.Created, up.StatusCode);
            seq = (long)(await up.ReadJsonAsync())["seq"]!;
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal((5L, "2/0: 3=2 2=1"), ((long)results["totalVotes"]!, Board(results["questions"])));
        var top = results["questions"]!["items"]![0]!;
        Assert.Equal(("Why spaces?", false), ((string?)top["text"], (bool)top["answered"]!));
        Assert.NotNull(top["at"]);
        Assert.Null((await Server.Client.ResultsAsync((string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!))["questions"]); // other kinds as before

        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < seq);

        Assert.Equal("2/0: 3=2 2=1", Board(delta.Data["questions"]));

        using var again = await UpvoteAsync(Server.Client, id, $"{id}-3", "ann");
        await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "already-voted");
    }

    [Fact]
    public async Task A_batch_takes_questions_and_upvotes_and_refuses_each_bad_one_on_its_own()
    {
        var id = await CreateQaPollAsync(Server.Admin, maxLength: 20);
        using (var asked = await AskAsync(Server.Client, id, "Seed question?", "seed"))
        {
            Assert.Equal(HttpStatusCode.Created, asked.StatusCode);
        }

        using var response = await Server.Client.PostAsJsonAsync("/v1/votes/batch", new
        {
            votes = new object[]
            {
                new { pollId = id, text = "Batch question?", voterId = "a" },
                new { pollId = id, upvote = $"{id}-2", voterId = "a" },
                new { pollId = id, upvote = $"{id}-2", voterId = "a" },
                new { pollId = id, upvote = "nosuch-2", voterId = "b" },
                new { pollId = id, upvote = $"{id}-99", voterId = "b" },
                new { pollId = id, text = "a question far over twenty", voterId = "b" },
                new { pollId = id, upvote = $"{id}-2", voterId = "b", idempotencyKey = "kb" },
            },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync())["results"]!.AsArray();
        Assert.True(results.Select(r => (string)r!["status"]!).SequenceEqual(["counted", "counted", "duplicate", "rejected", "rejected", "rejected", "counted"]), results.ToJsonString());
        Assert.Equal("urn:tally:problem:already-voted", (string?)results[2]!["error"]!["type"]);
        Assert.All(new[] { 3, 4, 5 }, i => Assert.Equal("urn:tally:problem:validation", (string?)results[i]!["error"]!["type"]));
        Assert.Equal("2/0: 2=2 3=0", Board((await Server.Client.ResultsAsync(id))["questions"]));
    }

    [Theory]
    [InlineData(LiveSocket.Json)]
    [InlineData(LiveSocket.MessagePack)]
    public async Task Over_a_WebSocket_a_vote_op_asks_and_upvotes_and_the_delta_carries_the_questions(string subprotocol)
    {
        var id = await CreateQaPollAsync(Server.Admin, maxLength: 20);
        await using var socket = await LiveSocket.ConnectAsync(Server, subprotocol);
        await socket.SubscribeAsync(id);
        var snapshot = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
        Assert.Equal("0/0:", Board(snapshot["questions"]));

        async Task<JsonObject> OpAsync(JsonObject op)
        {
            var requestId = (string)op["requestId"]!;
            await socket.SendAsync(op);
            return await socket.ReceiveUntilAsync(m => (string?)m["type"] is "ack" or "error" && (string?)m["requestId"] == requestId);
        }

        var asked = await OpAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["text"] = "Over a socket?", ["voterId"] = "ann", ["requestId"] = "r1" });
        Assert.True((string?)asked["type"] == "ack" && (string?)asked["voteId"] == $"{id}-2", asked.ToJsonString());
        var upvoted = await OpAsync(new JsonObject { ["op"] = "vote", ["pollId"] = id, ["upvote"] = $"{id}-2", ["voterId"] = "bob", ["requestId"] = "r2" });
        Assert.Equal("ack", (string?)upvoted["type"]);
        var delta = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "delta" && (long)m["seq"]! >= (long)upvoted["seq"]!);
        Assert.Equal("1/0: 2=1", Board(delta["questions"]));

        foreach (var (op, slug) in new (JsonObject, string)[]
        {
            (new JsonObject { ["op"] = "vote", ["pollId"] = id, ["upvote"] = $"{id}-2", ["voterId"] = "bob", ["requestId"] = "r3" }, "already-voted"),
            (new JsonObject { ["op"] = "vote", ["pollId"] = id, ["upvote"] = "x", ["voterId"] = "cy", ["requestId"] = "r4" }, "validation"),
            (new JsonObject { ["op"] = "vote", ["pollId"] = id, ["text"] = "Both?", ["upvote"] = $"{id}-2", ["voterId"] = "cy", ["requestId"] = "r5" }, "validation"),
            (new JsonObject { ["op"] = "vote", ["pollId"] = id, ["optionIds"] = new JsonArray(1), ["voterId"] = "cy", ["requestId"] = "r6" }, "validation"),
        })
        {
            var refused = await OpAsync(op);
            Assert.True((string?)refused["type"] == "error", refused.ToJsonString());
            Assert.Equal("urn:tally:problem:" + slug, (string?)refused["error"]!["type"]);
        }

        await socket.SendAsync(new JsonObject { ["op"] = "vote", ["requestId"] = "r7", ["pollId"] = id, ["upvote"] = 2, ["voterId"] = "cy" });
        var number = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "error");
        Assert.NotNull(number["error"]!["type"]); // a vote id only as a string

        await socket.PingAsync(); // every op so far was handled; the socket is still open
        Assert.Equal("1/0: 2=1", Board((await Server.Client.ResultsAsync(id))["questions"]));
    }

    [Fact]
    public async Task Over_gRPC_a_vote_asks_and_upvotes_and_watchers_get_the_question_board()
    {
        var client = new LiveClient(_channel);
        var id = await CreateQaPollAsync(Server.Admin, maxLength: 20, maxQuestionsPerVoter: 1);
        using var watcher = new GrpcWatcher(client, id);
        var snapshot = (await watcher.NextAsync())!;
        Assert.Equal("questions", snapshot.Kind);
        Assert.Equal((0L, 0), (snapshot.Questions.Asked, snapshot.Questions.Held));

        var asked = await client.VoteAsync(new VoteRequest { PollId = id, Text = "Over gRPC?", VoterId = "ann" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout));
        Assert.Equal((V1.VoteStatus.Counted, $"{id}-2"), (asked.Status, asked.VoteId));
        var up = await client.VoteAsync(new VoteRequest { PollId = id, Upvote = asked.VoteId, VoterId = "bob" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout));
        await watcher.ReadUntilSeqAsync(up.Seq);
        var board = watcher.Received[^1].Questions;
        Assert.Equal((1L, $"{id}-2", "Over gRPC?", 1L, false), (board.Asked, board.Items[0].Id, board.Items[0].Text, board.Items[0].Votes, board.Items[0].Answered));
        Assert.True(board.Items[0].AtMs > 0);

        foreach (var (request, code, slug) in new (VoteRequest, StatusCode, string)[]
        {
            (new VoteRequest { PollId = id, Upvote = asked.VoteId, VoterId = "bob" }, StatusCode.AlreadyExists, "already-voted"),
            (new VoteRequest { PollId = id, Text = "Second of ann?", VoterId = "ann" }, StatusCode.FailedPrecondition, "question-limit"),
            (new VoteRequest { PollId = id, Upvote = $"{id}-99", VoterId = "cy" }, StatusCode.InvalidArgument, "validation"),
            (new VoteRequest { PollId = id, Text = "Both?", Upvote = asked.VoteId, VoterId = "cy" }, StatusCode.InvalidArgument, "validation"),
            (new VoteRequest { PollId = id, VoterId = "cy" }, StatusCode.InvalidArgument, "validation"),
            (new VoteRequest { PollId = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!, Upvote = "x-2", VoterId = "cy" }, StatusCode.InvalidArgument, "validation"),
        })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => client.VoteAsync(request, deadline: DateTime.UtcNow.Add(TestServer.Timeout)).ResponseAsync);
            Assert.Equal((code, "urn:tally:problem:" + slug), (refused.StatusCode, refused.Trailers.GetValue("tally-problem-type")));
        }

        Assert.Equal("1/0: 2=1", Board((await Server.Client.ResultsAsync(id))["questions"]));
    }

    [Fact]
    public async Task Every_bad_ballot_on_a_qa_poll_is_a_4xx_problem_and_nothing_is_counted()
    {
        var id = await CreateQaPollAsync(Server.Admin, maxLength: 20, maxQuestionsPerVoter: 1);
        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var seed = await AskAsync(Server.Client, id, "Seed?", "seed"))
        {
            Assert.Equal(HttpStatusCode.Created, seed.StatusCode);
        }

        foreach (var (poll, body, status, slug) in new (string, object, HttpStatusCode, string)[]
        {
            (id, new { text = "", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { text = "   ", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { text = "twenty-one characters", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { text = "bell\u0007", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { text = "Both?", upvote = $"{id}-2", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { optionIds = new[] { 1 }, voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { value = 3, voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { upvote = "", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { upvote = "nosuchpoll-2", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { upvote = $"{id}-1", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"), // the poll's creation
            (id, new { upvote = $"{id}-99999999999999999999", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { upvote = $"{id}-77", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            (id, new { text = "Second?", voterId = "seed" }, HttpStatusCode.Conflict, "question-limit"),
            (choice, new { upvote = $"{choice}-2", voterId = "a" }, HttpStatusCode.UnprocessableEntity, "validation"),
            ("nosuchpoll", new { upvote = "nosuchpoll-2", voterId = "a" }, HttpStatusCode.NotFound, "poll-not-found"),
        })
        {
            using var response = await Server.Client.PostAsJsonAsync($"/v1/polls/{poll}/votes", body);
            await ApiClient.AssertProblemAsync(response, status, slug);
        }

        using (var number = await Server.Client.PostRawAsync($"/v1/polls/{id}/votes", """{"upvote":2,"voterId":"a"}"""))
        {
            await ApiClient.AssertProblemAsync(number, HttpStatusCode.BadRequest, "invalid-json"); // a vote id only as a JSON string
        }

        Assert.Equal((1L, "1/0: 2=0"), ((long)(await Server.Client.ResultsAsync(id))["totalVotes"]!, Board((await Server.Client.ResultsAsync(id))["questions"])));
        Assert.Equal(0, (long)(await Server.Client.ResultsAsync(choice))["totalVotes"]!);
    }

    [Theory]
    [InlineData("""{"question":"q","kind":"questions","maxLength":0}""", "maxLength")]
    [InlineData("""{"question":"q","kind":"questions","maxLength":1001}""", "maxLength")]
    [InlineData("""{"question":"q","kind":"questions","maxQuestionsPerVoter":0}""", "maxQuestionsPerVoter")]
    [InlineData("""{"question":"q","kind":"questions","maxQuestionsPerVoter":101}""", "maxQuestionsPerVoter")]
    [InlineData("""{"question":"q","kind":"questions","options":["a","b"]}""", "options")]
    [InlineData("""{"question":"q","kind":"questions","maxChoices":2}""", "maxChoices")]
    [InlineData("""{"question":"q","kind":"questions","allowChange":true}""", "allowChange")]
    [InlineData("""{"question":"q","kind":"questions","dedupe":"none"}""", "dedupe")]
    [InlineData("""{"question":"q","kind":"questions","language":"en"}""", "language")]
    [InlineData("""{"question":"q","options":["a","b"],"maxQuestionsPerVoter":3}""", "maxQuestionsPerVoter")]
    public async Task A_qa_poll_with_wrong_settings_is_refused_naming_the_field(string body, string field)
    {
        using var response = await Server.Admin.PostRawAsync("/v1/polls", body);

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]![field]);
    }

    [Fact]
    public async Task A_qa_poll_with_a_setting_of_the_wrong_json_type_is_a_bad_request()
    {
        using var response = await Server.Admin.PostRawAsync("/v1/polls", """{"question":"q","kind":"questions","maxQuestionsPerVoter":"5"}""");

        await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-json");
    }
}
