using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.Testing;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests;

/// <summary>Live events through the real server: join codes, the presenter's controls, quiz scoring, the leaderboard, and the event's stream on every transport.</summary>
public sealed class EventTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private TestServer Server => fixture.Server;

    public void Dispose() => _channel.Dispose();

    private static object QuizQuestion(string text, int correct, int points = 1000) =>
        new { question = text, kind = "quiz", options = new[] { "Red", "Green", "Blue", "Gold" }, correct = new[] { correct }, points, timeLimitSeconds = 600 };

    private async Task<JsonObject> CreateEventAsync(object body)
    {
        using var response = await Server.Admin.PostAsJsonAsync("/v1/events", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create event: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<JsonObject> ControlAsync(string id, string path)
    {
        using var response = await Server.Admin.PostAsync($"/v1/events/{id}/{path}", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private Task<HttpResponseMessage> JoinAsync(string id, string voterId, string name, string? passcode = null) =>
        Server.Client.PostAsJsonAsync($"/v1/events/{id}/join", new { name, passcode, voterId });

    [Fact]
    public async Task A_participant_finds_the_event_by_its_code_joins_answers_and_sees_the_leaderboard_on_every_transport()
    {
        var created = await CreateEventAsync(new { title = "Friday quiz", passcode = "tuna-melt", streakBonus = 100, questions = new[] { QuizQuestion("Sky?", 3), QuizQuestion("Grass?", 2) } });
        var id = (string)created["id"]!;
        var code = (string)created["joinCode"]!;
        Assert.Equal(("draft", 2, true), ((string?)created["status"], created["questions"]!.AsArray().Count, (bool)created["passcodeRequired"]!));
        var q1 = (string)created["questions"]![0]!["pollId"]!;
        Assert.Equal(id + "q1", q1);

        // The code, as typed: lower case, with a dash.
        var found = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/join/{code[..3].ToLowerInvariant()}-{code[3..]}"))!;
        Assert.Equal((id, "Friday quiz", true, 2), ((string?)found["eventId"], (string?)found["title"], (bool)found["passcodeRequired"]!, (int)found["questions"]!));
        using (var wrongCode = await Server.Client.GetAsync("/v1/join/" + (code[0] == 'A' ? "B" : "A") + code[1..]))
        {
            await ApiClient.AssertProblemAsync(wrongCode, HttpStatusCode.NotFound, "poll-not-found");
        }

        // A reader who is not a manager never sees the code.
        Assert.Null((await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/events/{id}"))!["joinCode"]);

        using (var noPasscode = await JoinAsync(id, "ada", "Ada"))
        {
            await ApiClient.AssertProblemAsync(noPasscode, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var joined = await JoinAsync(id, "ada", "Ada", "tuna-melt"))
        {
            Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
            Assert.Equal((1, "Ada", 0L), ((int)(await joined.ReadJsonAsync())["rank"]!, (string?)(await joined.ReadJsonAsync())["name"], 0L));
        }

        using (var taken = await JoinAsync(id, "bob", "ADA", "tuna-melt"))
        {
            await ApiClient.AssertProblemAsync(taken, HttpStatusCode.Conflict, "name-taken");
        }

        using (var bob = await JoinAsync(id, "bob", "Bob", "tuna-melt"))
        {
            Assert.True(bob.StatusCode == HttpStatusCode.OK, await bob.Content.ReadAsStringAsync());
        }

        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/events/{id}/events");
        var snapshot = await sse.NextAsync();
        Assert.Equal("draft", (string?)snapshot.Data["status"]);
        var joins = snapshot;
        while ((int)joins.Data["event"]!["leaderboard"]!["participants"]! < 2)
        {
            joins = await sse.NextAsync(); // the snapshot may be a publisher tick behind the second join; a delta follows
        }
        await using var socket = await LiveSocket.ConnectAsync(Server, LiveSocket.MessagePack);
        await socket.SubscribeAsync(id);
        await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
        using var grpc = new GrpcWatcher(new LiveClient(_channel), id);
        Assert.True((await grpc.NextAsync())!.Snapshot);

        // Not started: the question takes no answers yet.
        using (var early = await Server.Client.VoteAsync(q1, [3], "ada"))
        {
            await ApiClient.AssertProblemAsync(early, HttpStatusCode.Conflict, "poll-not-open");
        }

        await ControlAsync(id, "start");
        var shown = await ControlAsync(id, "questions/1/show");
        Assert.Equal((1, q1), ((int)shown["progress"]!["current"]!, (string?)shown["progress"]!["currentPollId"]));
        var open = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{q1}"))!;
        Assert.Null(open["quiz"]!["correct"]); // while it is open, the answer stays secret
        Assert.NotNull(open["quiz"]!["deadline"]);

        using (var outsider = await Server.Client.VoteAsync(q1, [3], "cara"))
        {
            await ApiClient.AssertProblemAsync(outsider, HttpStatusCode.Conflict, "not-joined");
        }

        using (var right = await Server.Client.VoteAsync(q1, [3], "ada"))
        {
            Assert.Equal(HttpStatusCode.Created, right.StatusCode);
        }

        using (var wrong = await Server.Client.VoteAsync(q1, [1], "bob"))
        {
            Assert.Equal(HttpStatusCode.Created, wrong.StatusCode);
        }

        using (var again = await Server.Client.VoteAsync(q1, [3], "bob"))
        {
            await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "already-voted"); // a quiz answer is final
        }

        var revealed = await ControlAsync(id, "reveal");
        Assert.True((bool)revealed["progress"]!["revealed"]!);
        var locked = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{q1}"))!;
        Assert.Equal(("closed", "[3]"), ((string?)locked["status"], locked["quiz"]!["correct"]!.ToJsonString()));

        var leaders = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/events/{id}/leaderboard"))!;
        Assert.Equal(2, (int)leaders["participants"]!);
        var first = leaders["items"]![0]!;
        Assert.Equal(("Ada", 1, 1), ((string?)first["name"], (int)first["rank"]!, (int)first["streak"]!));
        var adaScore = (long)first["score"]!;
        Assert.InRange(adaScore, 500, 1000); // by the server's clock, however quick this machine was
        var me = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/events/{id}/leaderboard/me?voterId=bob"))!;
        Assert.Equal((2, 0L, 1), ((int)me["rank"]!, (long)me["score"]!, (int)me["answered"]!));
        using (var stranger = await Server.Client.GetAsync($"/v1/events/{id}/leaderboard/me?voterId=cara"))
        {
            await ApiClient.AssertProblemAsync(stranger, HttpStatusCode.Conflict, "not-joined");
        }

        var seq = (long)revealed["seq"]!;
        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < seq);

        Assert.Equal(("live", true), ((string?)delta.Data["status"] ?? "live", (bool)delta.Data["event"]!["progress"]!["revealed"]!));
        Assert.Equal(adaScore, (long)delta.Data["event"]!["leaderboard"]!["leaders"]![0]!["score"]!);
        var message = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "delta" && (long)m["seq"]! >= seq);
        Assert.Equal("Ada", (string?)message["event"]!["leaderboard"]!["leaders"]![0]!["name"]);
        await grpc.ReadUntilSeqAsync(seq);
        var update = grpc.Received[^1];
        Assert.Equal((1, true, "Ada", adaScore), (update.Event.Current, update.Event.Revealed, update.Event.Leaders[0].Name, update.Event.Leaders[0].Score));

        await ControlAsync(id, "end");
        using (var late = await JoinAsync(id, "dan", "Dan", "tuna-melt"))
        {
            await ApiClient.AssertProblemAsync(late, HttpStatusCode.Conflict, "poll-closed");
        }
    }

    [Fact]
    public async Task Two_hundred_participants_answer_five_quiz_questions_and_the_leaderboard_equals_a_recomputation_from_the_exports()
    {
        const int participants = 200;
        const int streakBonus = 50;
        var questions = Enumerable.Range(1, 5).Select(i => QuizQuestion("Q" + i, 1 + (i % 4))).ToArray();
        var created = await CreateEventAsync(new { title = "Two hundred", streakBonus, leaderboardSize = 5, questions });
        var id = (string)created["id"]!;
        var code = (string)created["joinCode"]!;
        var eventId = (string)(await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/join/{code}"))!["eventId"]!;
        Assert.Equal(id, eventId);

        await Parallel.ForEachAsync(Enumerable.Range(0, participants), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (p, _) =>
        {
            using var joined = await JoinAsync(id, "p" + p, "Player " + p);
            Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
        });

        await ControlAsync(id, "start");
        var random = new Random(5);
        var answers = Enumerable.Range(1, 5).Select(_ => Enumerable.Range(0, participants).Select(_ => 1 + random.Next(4)).ToArray()).ToArray();
        for (var q = 1; q <= 5; q++)
        {
            await ControlAsync(id, $"questions/{q}/show");
            var chosen = answers[q - 1];
            await Parallel.ForEachAsync(Enumerable.Range(0, participants), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (p, _) =>
            {
                using var vote = await Server.Client.VoteAsync($"{id}q{q}", [chosen[p]], "p" + p);
                Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            });
            await ControlAsync(id, "reveal");
        }

        // The recomputation: each question's export (raw voters) gives when it opened and when each answer came, by the server's clock.
        var expected = new Dictionary<string, long>();
        var streaks = new Dictionary<string, int>();
        for (var q = 1; q <= 5; q++)
        {
            var lines = (await Server.Admin.GetStringAsync($"/v1/polls/{id}q{q}/export?voters=raw")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
            var opened = DateTimeOffset.Parse((string)lines.Single(l => (string?)l["type"] == "opened")["at"]!, CultureInfo.InvariantCulture);
            var correct = 1 + (q % 4);
            foreach (var cast in lines.Where(l => (string?)l["type"] == "cast"))
            {
                var voter = (string)cast["voter"]!;
                var t = DateTimeOffset.Parse((string)cast["at"]!, CultureInfo.InvariantCulture) - opened;
                var right = (int)cast["optionIds"]![0]! == correct;
                var streak = right ? streaks.GetValueOrDefault(voter) + 1 : 0;
                streaks[voter] = streak;
                var points = !right ? 0 : t < TimeSpan.FromMilliseconds(500) ? 1000 : (long)Math.Round(1000 * (1 - (t.TotalSeconds / 600 / 2)), MidpointRounding.AwayFromZero);
                var bonus = right && streak >= 2 ? streakBonus * Math.Min(streak - 1, 5) : 0;
                expected[voter] = expected.GetValueOrDefault(voter) + points + bonus;
            }
        }

        var board = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/events/{id}/leaderboard?limit=1000"))!;
        var served = board["items"]!.AsArray().ToDictionary(e => "p" + ((string)e!["name"]!)["Player ".Length..], e => (long)e!["score"]!);
        Assert.Equal(participants, served.Count);
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), served.OrderBy(p => p.Key, StringComparer.Ordinal));
        var ranks = board["items"]!.AsArray().Select(e => (long)e!["score"]!).ToList();
        Assert.Equal(ranks.OrderByDescending(s => s), ranks); // leader first

        // The event's stream carries the top five, the same as the leaderboard's first five.
        var top = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/events/{id}"))!["leaderboard"]!["leaders"]!.AsArray();
        Assert.Equal(board["items"]!.AsArray().Take(5).Select(e => e!.ToJsonString()), top.Select(e => e!.ToJsonString()));

        // And verify, which scores every answer again from the log, finds nothing wrong.
        using var verify = await Server.Admin.PostAsync("/v1/verify", null);
        var report = await verify.ReadJsonAsync();
        Assert.True((bool)report["ok"]!, report.ToJsonString());

        // The event's own export: who joined and every score.
        var eventLines = (await Server.Admin.GetStringAsync($"/v1/polls/{id}/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(participants, eventLines.Count(l => (string?)l["type"] == "joined"));
        Assert.Equal(participants * 5, eventLines.Count(l => (string?)l["type"] == "scored"));
        Assert.All(eventLines.Where(l => (string?)l["type"] == "joined"), l => Assert.StartsWith("h:", (string)l["voter"]!)); // hashed by default
    }

    [Theory]
    [InlineData("""{"questions":[{"question":"Q","options":["A","B"]}]}""", "title")]
    [InlineData("""{"title":"T","questions":[]}""", "questions")]
    [InlineData("""{"title":"T"}""", "questions")]
    [InlineData("""{"title":"T","questions":[{"question":"Q","kind":"quiz","options":["A","B"]}]}""", "questions[0].correct")]
    [InlineData("""{"title":"T","questions":[{"question":"Q","kind":"quiz","options":["A","B"],"correct":[3]}]}""", "questions[0].correct")]
    [InlineData("""{"title":"T","questions":[{"question":"Q","kind":"quiz","options":["A","B"],"correct":[1],"timeLimitSeconds":1}]}""", "questions[0].timeLimitSeconds")]
    [InlineData("""{"title":"T","questions":[{"question":"Q","kind":"quiz","options":["A","B"],"correct":[1],"points":-1}]}""", "questions[0].points")]
    [InlineData("""{"title":"T","questions":[{"question":"Q","kind":"nope","options":["A","B"]}]}""", "questions[0].kind")]
    [InlineData("""{"title":"T","questions":[{"question":"Q","options":["A","B"],"closesAt":"2999-01-01T00:00:00Z"}]}""", "questions[0].opensAt")]
    [InlineData("""{"title":"T","questions":[{"question":"Q","options":["A","B"],"voterIdentity":"token"}]}""", "questions[0].voterIdentity")]
    [InlineData("""{"title":"T","questions":[null]}""", "questions[0]")]
    [InlineData("""{"title":"T","passcode":"abc","questions":[{"question":"Q","options":["A","B"]}]}""", "passcode")]
    [InlineData("""{"title":"T","streakBonus":5000,"questions":[{"question":"Q","options":["A","B"]}]}""", "streakBonus")]
    [InlineData("""{"title":"T","leaderboardSize":0,"questions":[{"question":"Q","options":["A","B"]}]}""", "leaderboardSize")]
    [InlineData("""{"title":"T","voterIdentity":"invite","questions":[{"question":"Q","options":["A","B"]}]}""", "voterIdentity")]
    public async Task A_bad_event_is_refused_with_the_field_that_is_wrong(string body, string field)
    {
        using var response = await Server.Admin.PostRawAsync("/v1/events", body);
        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.True(problem["errors"]?[field] is not null, problem.ToJsonString());
    }

    [Fact]
    public async Task Bad_controls_joins_and_lookups_get_clear_problems()
    {
        var id = (string)(await CreateEventAsync(new { title = "T", questions = new[] { QuizQuestion("Q", 1) } }))["id"]!;

        foreach (var (path, status, slug) in new[]
        {
            ("questions/1/show", HttpStatusCode.Conflict, "invalid-transition"), // not started
            ("reveal", HttpStatusCode.Conflict, "invalid-transition"),
            ("questions/0/show", HttpStatusCode.UnprocessableEntity, "validation"),
            ("questions/abc/show", HttpStatusCode.UnprocessableEntity, "validation"),
            ("questions/99999999999/show", HttpStatusCode.UnprocessableEntity, "validation"),
        })
        {
            using var response = await Server.Admin.PostAsync($"/v1/events/{id}/{path}", null);
            await ApiClient.AssertProblemAsync(response, status, slug);
        }

        await ControlAsync(id, "start");
        using (var beyond = await Server.Admin.PostAsync($"/v1/events/{id}/questions/2/show", null))
        {
            await ApiClient.AssertProblemAsync(beyond, HttpStatusCode.UnprocessableEntity, "validation");
        }

        foreach (var path in new[] { "/v1/events/nosuchevent1", "/v1/events/" + id + "q1", "/v1/events/%E2%80%AE/leaderboard", "/v1/events/" + new string('a', 65) })
        {
            using var response = await Server.Client.GetAsync(path);
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound, "poll-not-found");
        }

        using (var anonymous = await Server.Client.PostAsync($"/v1/events/{id}/start", null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        foreach (var code in new[] { "A", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ABCDEF0", "%20%20%20%20%20%20%20", "ÄBCDEFG", "ABC%2FDEF" })
        {
            using var response = await Server.Client.GetAsync("/v1/join/" + code);
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound, "poll-not-found");
        }

        foreach (var (name, slug) in new[] { ("", "validation"), (new string('n', 41), "validation"), ("bad\u0000name", "validation") })
        {
            using var response = await JoinAsync(id, "x", name);
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, slug);
        }

        using (var noVoter = await Server.Client.PostAsJsonAsync($"/v1/events/{id}/join", new { name = "Nobody" }))
        {
            await ApiClient.AssertProblemAsync(noVoter, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var badLimit = await Server.Client.GetAsync($"/v1/events/{id}/leaderboard?limit=0"))
        {
            await ApiClient.AssertProblemAsync(badLimit, HttpStatusCode.BadRequest, "invalid-query");
        }

        using (var eventVote = await Server.Client.VoteAsync(id, [1], "x"))
        {
            await ApiClient.AssertProblemAsync(eventVote, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var standalone = await Server.Admin.PostAsJsonAsync("/v1/polls", QuizQuestion("Alone?", 1)))
        {
            await ApiClient.AssertProblemAsync(standalone, HttpStatusCode.UnprocessableEntity, "validation");
        }
    }

    [Fact]
    public async Task Join_code_lookups_past_the_addresss_bucket_get_429()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            ["Tally:RateLimit:JoinCodes:Rate"] = "0.01",
            ["Tally:RateLimit:JoinCodes:Burst"] = "3",
        });

        for (var i = 0; i < 3; i++)
        {
            using var miss = await server.Client.GetAsync("/v1/join/ABCDEFG");
            Assert.Equal(HttpStatusCode.NotFound, miss.StatusCode);
        }

        using var limited = await server.Client.GetAsync("/v1/join/ABCDEFG");
        await ApiClient.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.NotNull(limited.Headers.RetryAfter);
    }
}
