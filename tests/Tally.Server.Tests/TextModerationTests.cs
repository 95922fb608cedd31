using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;
using static Tally.Server.Tests.TextPollTests;

namespace Tally.Server.Tests;

/// <summary>
/// A text poll's moderation (<c>/v1/polls/{id}/answers</c>: held answers listed, approved or rejected, by managers only) and the
/// workspace's <c>blockedTerms</c>, through the real server.
/// </summary>
public sealed class TextModerationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;

    private async Task<string> CreateWorkspaceAsync(object? settings = null)
    {
        var id = "ws-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await Server.Admin.PostAsJsonAsync("/v1/workspaces", new { id, name = "Test " + id, settings });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create workspace: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return id;
    }

    private async Task<string> CreateKeyAsync(string workspace, params string[] scopes)
    {
        using var response = await Server.Admin.PostAsJsonAsync($"/v1/workspaces/{workspace}/keys", new { name = "k", scopes });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.ReadJsonAsync())["key"]!;
    }

    /// <summary>A text poll of <paramref name="workspace"/>, made by the root key for it.</summary>
    private async Task<string> CreateTextPollInAsync(string workspace, bool moderation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/polls") { Content = JsonContent.Create(new { question = "One word?", kind = "text", moderation }) };
        request.Headers.Add("Tally-Workspace", workspace);
        using var response = await Server.Admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create poll: {(int)response.StatusCode} {text}");
        Assert.Equal(workspace, (string?)JsonNode.Parse(text)!["workspace"]);
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key)
    {
        using var request = new HttpRequestMessage(method, path);
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return await Server.Client.SendAsync(request);
    }

    private async Task<JsonObject> ModerateAsync(string id, string voteId, string verb)
    {
        using var response = await Server.Admin.PostAsync($"/v1/polls/{id}/answers/{voteId}/{verb}", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{verb} {voteId}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<JsonObject> HeldAsync(string id, string query = "") =>
        (await Server.Admin.GetFromJsonAsync<JsonObject>($"/v1/polls/{id}/answers{query}"))!;

    [Fact]
    public async Task Held_answers_count_only_once_approved_and_a_rejected_one_never_does()
    {
        var id = await CreateTextPollAsync(Server.Admin, moderation: true);
        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        Assert.Equal("0/0:", Cloud((await sse.NextAsync()).Data["text"]));
        foreach (var (text, voter) in new[] { ("Great talks", "ann"), ("Spam spam spam", "bob"), ("Great people", "cy") })
        {
            using var vote = await AnswerAsync(Server.Client, id, text, voter);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            Assert.Equal("counted", (string?)(await vote.ReadJsonAsync())["status"]); // taken (and held)
        }

        Assert.Equal("0/3:", Cloud((await Server.Client.ResultsAsync(id))["text"]));
        var held = await HeldAsync(id);
        Assert.Equal((id, 3), ((string?)held["pollId"], (int)held["held"]!));
        Assert.Equal([$"{id}-2 Great talks great,talks", $"{id}-3 Spam spam spam spam", $"{id}-4 Great people great,people"],
            held["items"]!.AsArray().Select(h => $"{(string)h!["voteId"]!} {(string)h["text"]!} {string.Join(",", h["terms"]!.AsArray().Select(t => (string)t!))}"));
        Assert.NotNull(held["items"]![0]!["at"]);
        var page = await HeldAsync(id, "?limit=1");
        Assert.Equal((3, 1), ((int)page["held"]!, page["items"]!.AsArray().Count));

        Assert.Equal("1/2: great=1 talks=1", Cloud((await ModerateAsync(id, $"{id}-2", "approve"))["text"]));
        Assert.Equal("1/1: great=1 talks=1", Cloud((await ModerateAsync(id, "3", "reject"))["text"])); // the seq alone names it too
        var last = await ModerateAsync(id, $"{id}-4", "approve");
        Assert.Equal("2/0: great=2 people=1 talks=1", Cloud(last["text"]));
        Assert.Equal(3, (long)last["totalVotes"]!); // ballots taken, held or not: the text object says what counts

        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < (long)last["seq"]!);

        Assert.Equal("2/0: great=2 people=1 talks=1", Cloud(delta.Data["text"]));
        Assert.Empty((await HeldAsync(id))["items"]!.AsArray());
        Assert.DoesNotContain("spam", (await Server.Client.ResultsAsync(id)).ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_moderation_ids_and_queries_are_problems_and_change_nothing()
    {
        var id = await CreateTextPollAsync(Server.Admin, moderation: true);
        var open = await CreateTextPollAsync(Server.Admin);
        var choice = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var vote = await AnswerAsync(Server.Client, id, "held words", "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using (var vote = await AnswerAsync(Server.Client, open, "counted words", "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        await ModerateAsync(id, $"{id}-2", "reject");
        foreach (var (poll, voteId, status, slug) in new[]
        {
            (id, $"{id}-2", HttpStatusCode.UnprocessableEntity, "validation"), // moderated already
            (id, $"{id}-3", HttpStatusCode.UnprocessableEntity, "validation"), // the moderation, no answer
            (id, $"{id}-99", HttpStatusCode.UnprocessableEntity, "validation"),
            (id, $"{id}-1", HttpStatusCode.UnprocessableEntity, "validation"), // the poll's creation
            (id, $"{id}-0", HttpStatusCode.UnprocessableEntity, "validation"),
            (id, $"{id}--2", HttpStatusCode.UnprocessableEntity, "validation"),
            (id, $"{choice}-2", HttpStatusCode.UnprocessableEntity, "validation"), // another poll's vote id
            (id, "abc", HttpStatusCode.UnprocessableEntity, "validation"),
            (id, "99999999999999999999999", HttpStatusCode.UnprocessableEntity, "validation"),
            (open, $"{open}-2", HttpStatusCode.UnprocessableEntity, "validation"), // not moderated: nothing is held
            (choice, $"{choice}-2", HttpStatusCode.UnprocessableEntity, "validation"),
            ("nosuchpoll", "nosuchpoll-2", HttpStatusCode.NotFound, "poll-not-found"),
        })
        {
            foreach (var verb in new[] { "approve", "reject" })
            {
                using var response = await Server.Admin.PostAsync($"/v1/polls/{poll}/answers/{Uri.EscapeDataString(voteId)}/{verb}", null);
                await ApiClient.AssertProblemAsync(response, status, slug);
            }
        }

        foreach (var query in new[] { "?limit=0", "?limit=1001", "?limit=x", "?limit=-1" })
        {
            using var response = await Server.Admin.GetAsync($"/v1/polls/{id}/answers{query}");
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-query");
        }

        using (var onChoice = await Server.Admin.GetAsync($"/v1/polls/{choice}/answers"))
        {
            await ApiClient.AssertProblemAsync(onChoice, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var missing = await Server.Admin.GetAsync("/v1/polls/nosuchpoll/answers"))
        {
            await ApiClient.AssertProblemAsync(missing, HttpStatusCode.NotFound, "poll-not-found");
        }

        Assert.Empty((await HeldAsync(open))["items"]!.AsArray());
        Assert.Equal("0/0:", Cloud((await Server.Client.ResultsAsync(id))["text"]));
        Assert.Equal("1/0: counted=1 words=1", Cloud((await Server.Client.ResultsAsync(open))["text"]));
    }

    [Fact]
    public async Task Only_a_manager_of_the_polls_workspace_sees_and_moderates_its_held_answers()
    {
        var workspace = await CreateWorkspaceAsync();
        var other = await CreateWorkspaceAsync();
        var id = await CreateTextPollInAsync(workspace, moderation: true);
        using (var vote = await AnswerAsync(Server.Client, id, "held words", "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var reader = await CreateKeyAsync(workspace, "polls:read", "votes:write");
        var stranger = await CreateKeyAsync(other, "polls:manage");
        var manager = await CreateKeyAsync(workspace, "polls:manage");
        foreach (var (method, path) in new[] { (HttpMethod.Get, $"/v1/polls/{id}/answers"), (HttpMethod.Post, $"/v1/polls/{id}/answers/{id}-2/approve"), (HttpMethod.Post, $"/v1/polls/{id}/answers/{id}-2/reject") })
        {
            using (var nobody = await SendAsync(method, path, null))
            {
                await ApiClient.AssertProblemAsync(nobody, HttpStatusCode.Unauthorized, "unauthorized");
            }

            using (var wrongKey = await SendAsync(method, path, "tly_nosuchkey_" + new string('x', 40)))
            {
                await ApiClient.AssertProblemAsync(wrongKey, HttpStatusCode.Unauthorized, "unauthorized");
            }

            using (var notManager = await SendAsync(method, path, reader))
            {
                await ApiClient.AssertProblemAsync(notManager, HttpStatusCode.Forbidden, "forbidden");
            }

            using (var elsewhere = await SendAsync(method, path, stranger))
            {
                await ApiClient.AssertProblemAsync(elsewhere, HttpStatusCode.NotFound, "poll-not-found"); // another workspace's manager never sees the poll
            }
        }

        Assert.Equal("0/1:", Cloud((await Server.Client.ResultsAsync(id))["text"]));
        using (var listed = await SendAsync(HttpMethod.Get, $"/v1/polls/{id}/answers", manager))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            Assert.Equal(1, (int)(await listed.ReadJsonAsync())["held"]!);
        }

        using (var approved = await SendAsync(HttpMethod.Post, $"/v1/polls/{id}/answers/{id}-2/approve", manager))
        {
            Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
            Assert.Equal("1/0: held=1 words=1", Cloud((await approved.ReadJsonAsync())["text"]));
        }

        var audit = await Server.Admin.GetStringAsync($"/v1/workspaces/{workspace}/audit");
        Assert.Contains("answer.approved", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_blocked_term_of_the_workspace_never_appears_in_the_results_or_the_held_answers()
    {
        var workspace = await CreateWorkspaceAsync(new { blockedTerms = new[] { "Spam", "EGGS", "spam" } });
        var settings = (await Server.Admin.GetFromJsonAsync<JsonObject>($"/v1/workspaces/{workspace}"))!["settings"]!;
        Assert.Equal(["spam", "eggs"], settings["blockedTerms"]!.AsArray().Select(t => (string)t!)); // normalised, once each
        var id = await CreateTextPollInAsync(workspace, moderation: false);
        var moderated = await CreateTextPollInAsync(workspace, moderation: true);

        foreach (var (text, voter) in new[] { ("Spam and eggs and ham", "ann"), ("SPAM! spam, toast", "bob") })
        {
            using var vote = await AnswerAsync(Server.Client, id, text, voter);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using (var vote = await AnswerAsync(Server.Client, moderated, "eggs on toast", "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal("2/0: ham=1 toast=1", Cloud(results["text"]));
        Assert.Equal(["toast"], (await HeldAsync(moderated))["items"]![0]!["terms"]!.AsArray().Select(t => (string)t!));

        // A new block list counts from then on; the answers taken before keep the terms they were counted for.
        using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"/v1/workspaces/{workspace}") { Content = JsonContent.Create(new { settings = new { blockedTerms = new[] { "ham" } } }) })
        using (var patched = await Server.Admin.SendAsync(patch))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        }

        using (var vote = await AnswerAsync(Server.Client, id, "ham and spam", "cy"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        Assert.Equal("3/0: ham=1 spam=1 toast=1", Cloud((await Server.Client.ResultsAsync(id))["text"]));
    }

    [Fact]
    public async Task Held_answers_and_the_terms_survive_a_restart_and_are_still_moderated_after_it()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Engine:SnapshotEveryEvents"] = "20" }); // snapshot + tail
        var id = await CreateTextPollAsync(server.Admin, moderation: true);
        var open = await CreateTextPollAsync(server.Admin);
        for (var i = 0; i < 30; i++)
        {
            using var vote = await AnswerAsync(server.Client, i < 4 ? id : open, $"word{i % 4} shared", "v" + i);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using (var approve = await server.Admin.PostAsync($"/v1/polls/{id}/answers/{id}-2/approve", null))
        using (var reject = await server.Admin.PostAsync($"/v1/polls/{id}/answers/{id}-3/reject", null))
        {
            Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (approve.StatusCode, reject.StatusCode));
        }

        var before = (await server.Client.ResultsAsync(id)).ToJsonString() + (await server.Client.ResultsAsync(open)).ToJsonString();
        var held = await server.Admin.GetStringAsync($"/v1/polls/{id}/answers");
        Assert.Contains("\"held\":2", held, StringComparison.Ordinal);

        await server.RestartAsync();

        Assert.Equal(before, (await server.Client.ResultsAsync(id)).ToJsonString() + (await server.Client.ResultsAsync(open)).ToJsonString());
        Assert.Equal(held, await server.Admin.GetStringAsync($"/v1/polls/{id}/answers"));
        using (var twice = await server.Admin.PostAsync($"/v1/polls/{id}/answers/{id}-3/approve", null))
        {
            await ApiClient.AssertProblemAsync(twice, HttpStatusCode.UnprocessableEntity, "validation"); // rejected before the restart
        }

        using var after = await server.Admin.PostAsync($"/v1/polls/{id}/answers/{id}-4/approve", null);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("2/1: shared=2 word0=1 word2=1", Cloud((await after.ReadJsonAsync())["text"]));
    }

    [Theory]
    [InlineData("two words")]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("!!!")]
    public async Task A_blocked_term_that_is_no_single_word_is_refused_naming_it(string term)
    {
        using var response = await Server.Admin.PostAsJsonAsync("/v1/workspaces", new { id = "ws-" + Guid.NewGuid().ToString("N")[..10], settings = new { blockedTerms = new[] { "fine", term } } });

        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        Assert.NotNull(problem["errors"]!["settings.blockedTerms[1]"]);
    }
}
