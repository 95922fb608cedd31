using System.Net;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;
using static Tally.Server.Tests.QuestionPollTests;

namespace Tally.Server.Tests;

/// <summary>
/// A Q&amp;A poll's presenter side through the real server: held questions through <c>/v1/polls/{id}/answers</c>, approved or
/// rejected; questions marked answered; a voter's erasure; the export; and the board through a restart (snapshot + tail).
/// </summary>
public sealed class QuestionModerationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;

    private static async Task<JsonObject> PostOkAsync(HttpClient admin, string path)
    {
        using var response = await admin.PostAsync(path, null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task AskAllAsync(HttpClient client, string id, params (string Text, string Voter)[] questions)
    {
        foreach (var (text, voter) in questions)
        {
            using var asked = await AskAsync(client, id, text, voter);
            Assert.Equal(HttpStatusCode.Created, asked.StatusCode);
        }
    }

    [Fact]
    public async Task Held_questions_are_listed_and_only_approved_ones_are_shown_and_take_upvotes()
    {
        var id = await CreateQaPollAsync(Server.Admin, moderation: true);
        await AskAllAsync(Server.Client, id, ("Fair question?", "ann"), ("Spam!", "bob"), ("Later?", "cy"));
        Assert.Equal("0/3:", Board((await Server.Client.ResultsAsync(id))["questions"]));

        var held = JsonNode.Parse(await Server.Admin.GetStringAsync($"/v1/polls/{id}/answers"))!;
        Assert.Equal(3, (int)held["held"]!);
        Assert.Equal([$"{id}-2 Fair question?", $"{id}-3 Spam!", $"{id}-4 Later?"], held["items"]!.AsArray().Select(h => $"{(string)h!["voteId"]!} {(string)h["text"]!}"));
        using (var early = await UpvoteAsync(Server.Client, id, $"{id}-2", "bob"))
        {
            var problem = await ApiClient.AssertProblemAsync(early, HttpStatusCode.UnprocessableEntity, "validation");
            Assert.Contains("moderation", (string?)problem["detail"], StringComparison.Ordinal);
        }

        Assert.Equal("1/2: 2=0", Board((await PostOkAsync(Server.Admin, $"/v1/polls/{id}/answers/{id}-2/approve"))["questions"]));
        Assert.Equal("1/1: 2=0", Board((await PostOkAsync(Server.Admin, $"/v1/polls/{id}/answers/{id}-3/reject"))["questions"]));
        using (var rejected = await UpvoteAsync(Server.Client, id, $"{id}-3", "ann"))
        {
            await ApiClient.AssertProblemAsync(rejected, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var twice = await Server.Admin.PostAsync($"/v1/polls/{id}/answers/{id}-3/approve", null))
        {
            await ApiClient.AssertProblemAsync(twice, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var up = await UpvoteAsync(Server.Client, id, $"{id}-2", "bob"))
        {
            Assert.Equal(HttpStatusCode.Created, up.StatusCode);
        }

        Assert.Equal("1/1: 2=1", Board((await Server.Client.ResultsAsync(id))["questions"]));
        using var anonymous = await Server.Client.GetAsync($"/v1/polls/{id}/answers");
        await ApiClient.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized"); // managers only
    }

    [Fact]
    public async Task A_presenter_marks_a_question_answered_and_it_stays_in_the_results_and_the_stream()
    {
        var id = await CreateQaPollAsync(Server.Admin);
        await AskAllAsync(Server.Client, id, ("First?", "ann"), ("Second?", "bob"));
        long upvoted;
        using (var up = await UpvoteAsync(Server.Client, id, $"{id}-3", "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, up.StatusCode);
            upvoted = (long)(await up.ReadJsonAsync())["seq"]!;
        }

        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        var current = await sse.NextAsync(); // the snapshot, which may trail the last vote by a tick; deltas bring it up
        while (current.Seq < upvoted)
        {
            current = await sse.NextAsync();
        }

        Assert.Equal("2/0: 3=1 2=0", Board(current.Data["questions"]));

        var answered = await PostOkAsync(Server.Admin, $"/v1/polls/{id}/questions/{id}-3/answered");
        Assert.Equal("2/0: 3=1* 2=0", Board(answered["questions"]));
        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < (long)answered["seq"]!);

        Assert.Equal("2/0: 3=1* 2=0", Board(delta.Data["questions"]));
        Assert.Equal((long)answered["seq"]!, (long)(await PostOkAsync(Server.Admin, $"/v1/polls/{id}/questions/3/answered"))["seq"]!); // again: unchanged

        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        foreach (var (path, status, slug) in new (string, HttpStatusCode, string)[]
        {
            ($"/v1/polls/{id}/questions/{id}-99/answered", HttpStatusCode.UnprocessableEntity, "validation"),
            ($"/v1/polls/{id}/questions/not-a-vote-id/answered", HttpStatusCode.UnprocessableEntity, "validation"),
            ($"/v1/polls/{id}/questions/{id}-1/answered", HttpStatusCode.UnprocessableEntity, "validation"),
            ($"/v1/polls/{choice}/questions/{choice}-2/answered", HttpStatusCode.UnprocessableEntity, "validation"),
            ("/v1/polls/nosuchpoll/questions/nosuchpoll-2/answered", HttpStatusCode.NotFound, "poll-not-found"),
        })
        {
            using var refused = await Server.Admin.PostAsync(path, null);
            await ApiClient.AssertProblemAsync(refused, status, slug);
        }

        using var anonymous = await Server.Client.PostAsync($"/v1/polls/{id}/questions/{id}-2/answered", null);
        await ApiClient.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task An_erased_voter_leaves_the_board_and_the_export_shows_every_question_upvote_and_mark_without_them()
    {
        var id = await CreateQaPollAsync(Server.Admin, moderation: true);
        await AskAllAsync(Server.Client, id, ("Ann's, \"quoted\"?", "ann"), ("Bob's?", "bob"));
        await PostOkAsync(Server.Admin, $"/v1/polls/{id}/answers/{id}-2/approve");
        await PostOkAsync(Server.Admin, $"/v1/polls/{id}/answers/{id}-3/approve");
        foreach (var (question, voter) in new[] { ("2", "bob"), ("3", "ann"), ("3", "cy") })
        {
            using var up = await UpvoteAsync(Server.Client, id, $"{id}-{question}", voter);
            Assert.Equal(HttpStatusCode.Created, up.StatusCode);
        }

        await PostOkAsync(Server.Admin, $"/v1/polls/{id}/questions/{id}-3/answered");
        Assert.Equal("2/0: 3=2* 2=1", Board((await Server.Client.ResultsAsync(id))["questions"]));

        using (var erase = await Server.Admin.PostAsync($"/v1/polls/{id}/erasures", System.Net.Http.Json.JsonContent.Create(new { voterId = "ann" })))
        {
            var body = await erase.ReadJsonAsync();
            Assert.True(erase.StatusCode == HttpStatusCode.OK, body.ToJsonString());
            Assert.Equal((true, $"{id}-2"), ((bool)body["erased"]!, (string?)body["voteId"]));
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal((3L, "1/0: 3=1*"), ((long)results["totalVotes"]!, Board(results["questions"])));

        using var ndjson = await Server.Admin.GetAsync($"/v1/polls/{id}/export?voters=raw");
        Assert.Equal(HttpStatusCode.OK, ndjson.StatusCode);
        var lines = (await ndjson.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToArray();
        Assert.Equal(["poll", "asked", "asked", "approved", "approved", "upvoted", "upvoted", "upvoted", "question-answered", "erased", "results"], lines.Select(l => (string)l["type"]!));
        Assert.Equal(($"{id}-2", null, "Ann's, \"quoted\"?", true), ((string?)lines[1]["voteId"], (string?)lines[1]["voter"], (string?)lines[1]["text"], (bool)lines[1]["held"]!)); // erased: no voter
        Assert.Equal(($"{id}-7", null, $"{id}-3"), ((string?)lines[6]["voteId"], (string?)lines[6]["voter"], (string?)lines[6]["questionId"]));
        Assert.Equal(($"{id}-6", "bob", $"{id}-2"), ((string?)lines[5]["voteId"], (string?)lines[5]["voter"], (string?)lines[5]["questionId"]));
        Assert.Equal($"{id}-3", (string?)lines[8]["questionId"]);
        Assert.Equal($"[\"{id}-2\",\"{id}-7\"]", lines[9]["voteIds"]!.ToJsonString());
        Assert.Equal("1/0: 3=1*", Board(lines[10]["results"]!["questions"]));
        Assert.DoesNotContain("\"ann\"", string.Join('\n', lines.Select(l => l.ToJsonString())), StringComparison.Ordinal);

        using var csv = await Server.Admin.GetAsync($"/v1/polls/{id}/export?format=csv&voters=raw");
        var rows = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(rows, r => r.EndsWith($",asked-held,{id}-2,,,,\"Ann's, \"\"quoted\"\"?\"", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.EndsWith($",upvoted,{id}-6,bob,{id}-2,,", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains($",question-answered,{id}-3,", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains($",erased,{id}-2 {id}-7,", StringComparison.Ordinal));
        Assert.DoesNotContain(rows, r => r.Contains(",ann,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_board_survives_a_restart_from_a_snapshot_and_its_tail_and_verifies()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Engine:SnapshotEveryEvents"] = "20" }); // snapshot + tail
        var id = await CreateQaPollAsync(server.Admin, moderation: true);
        var open = await CreateQaPollAsync(server.Admin);
        await AskAllAsync(server.Client, id, ("Held?", "ann"), ("Approved?", "bob"), ("Rejected?", "cy"));
        await PostOkAsync(server.Admin, $"/v1/polls/{id}/answers/{id}-3/approve");
        await PostOkAsync(server.Admin, $"/v1/polls/{id}/answers/{id}-4/reject");
        for (var i = 0; i < 8; i++)
        {
            await AskAllAsync(server.Client, open, ($"Question {i}?", $"asker{i % 2}"));
        }

        for (var voter = 0; voter < 6; voter++)
        {
            for (var q = 2; q < 10; q += voter + 1)
            {
                using var up = await UpvoteAsync(server.Client, open, $"{open}-{q}", $"v{voter}");
                Assert.Equal(HttpStatusCode.Created, up.StatusCode);
            }
        }

        await PostOkAsync(server.Admin, $"/v1/polls/{open}/questions/{open}-4/answered");
        var before = (await server.Client.ResultsAsync(id)).ToJsonString() + (await server.Client.ResultsAsync(open)).ToJsonString();
        var held = await server.Admin.GetStringAsync($"/v1/polls/{id}/answers");

        await server.RestartAsync();

        Assert.Equal(before, (await server.Client.ResultsAsync(id)).ToJsonString() + (await server.Client.ResultsAsync(open)).ToJsonString());
        Assert.Equal(held, await server.Admin.GetStringAsync($"/v1/polls/{id}/answers"));
        using (var again = await UpvoteAsync(server.Client, open, $"{open}-2", "v0"))
        {
            await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "already-voted");
        }

        using (var more = await AskAsync(server.Client, open, "A fifth?", "asker0"))
        {
            Assert.Equal(HttpStatusCode.Created, more.StatusCode); // 4 of 5 asked before the restart
        }

        using (var sixth = await AskAsync(server.Client, open, "A sixth?", "asker0"))
        {
            await ApiClient.AssertProblemAsync(sixth, HttpStatusCode.Conflict, "question-limit");
        }

        using var verify = await server.Admin.PostAsync("/v1/verify", null);
        var report = await verify.ReadJsonAsync();
        Assert.True((bool)report["ok"]!, report.ToJsonString());
        Assert.Equal("2/0: 2=0 3=0", Board((await PostOkAsync(server.Admin, $"/v1/polls/{id}/answers/{id}-2/approve"))["questions"])); // equal: the older first
    }
}
