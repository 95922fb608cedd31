using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary>Polls: create, read, list with cursor pagination, close (by an admin and by <c>closesAt</c>), results.</summary>
public sealed class PollApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly string[] PollFields = ["id", "question", "kind", "maxChoices", "options", "status", "createdAt", "closesAt", "dedupe", "allowChange"];

    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Create_answers_201_with_Location_and_the_poll()
    {
        var closesAt = DateTimeOffset.UtcNow.AddHours(1);
        closesAt = closesAt.AddTicks(-(closesAt.UtcTicks % TimeSpan.TicksPerMillisecond));
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        using var response = await Server.Admin.PostAsJsonAsync("/v1/polls", new
        {
            question = "Which colours?",
            options = new[] { "Red", "Green", "Blue", "Yellow" },
            kind = "multiple",
            maxChoices = 2,
            closesAt,
            dedupe = "none",
            allowChange = false,
        });
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var poll = JsonNode.Parse(text)!.AsObject();
        foreach (var field in PollFields)
        {
            Assert.True(poll.ContainsKey(field), $"the poll has no {field}: {text}");
        }

        var id = (string)poll["id"]!;
        Assert.False(string.IsNullOrWhiteSpace(id));
        Assert.Equal($"/v1/polls/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("Which colours?", (string?)poll["question"]);
        Assert.Equal("multiple", (string?)poll["kind"]);
        Assert.Equal(2, (int)poll["maxChoices"]!);
        Assert.Equal(
            [(1, "Red"), (2, "Green"), (3, "Blue"), (4, "Yellow")],
            poll["options"]!.AsArray().Select(o => ((int)o!["id"]!, (string)o["text"]!)).ToArray());
        Assert.Equal("open", (string?)poll["status"]);
        var createdAt = (DateTimeOffset)poll["createdAt"]!;
        Assert.InRange(createdAt, before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(closesAt, (DateTimeOffset)poll["closesAt"]!);
        Assert.Equal("none", (string?)poll["dedupe"]);
        Assert.False((bool)poll["allowChange"]!);
    }

    [Fact]
    public async Task Create_fills_in_the_defaults()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "Tea or coffee?", options = new[] { "Tea", "Coffee" } });

        Assert.Equal("single", (string?)poll["kind"]);
        Assert.Equal(1, (int)poll["maxChoices"]!);
        Assert.Equal("voter", (string?)poll["dedupe"]);
        Assert.False((bool)poll["allowChange"]!);
        Assert.Null(poll["closesAt"]);
        Assert.Equal("open", (string?)poll["status"]);
    }

    [Fact]
    public async Task A_multiple_choice_poll_without_maxChoices_takes_every_option()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "Which?", options = new[] { "a", "b", "c" }, kind = "multiple" });

        Assert.Equal(3, (int)poll["maxChoices"]!);
    }

    [Fact]
    public async Task Get_answers_the_poll_as_created_and_Location_points_at_it()
    {
        using var create = await Server.Admin.PostAsJsonAsync("/v1/polls", new { question = "Best season?", options = new[] { "Spring", "Summer", "Autumn", "Winter" }, allowChange = true });
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var created = await create.ReadJsonAsync();

        // Public: no admin key needed to read a poll.
        using var get = await Server.Client.GetAsync(create.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var read = await get.ReadJsonAsync();

        Assert.True(JsonNode.DeepEquals(created, read), $"created {created.ToJsonString()}\nread    {read.ToJsonString()}");
    }

    [Fact]
    public async Task Results_have_the_contract_shape_and_count_votes()
    {
        var poll = await Server.Admin.CreatePollAsync(options: 3);
        var id = (string)poll["id"]!;

        var empty = await Server.Client.ResultsAsync(id);
        Assert.Equal(id, (string?)empty["pollId"]);
        Assert.Equal(1, (long)empty["seq"]!); // PollCreated is the poll's first event
        Assert.Equal("open", (string?)empty["status"]);
        Assert.Equal(0, (long)empty["totalVotes"]!);
        Assert.Equal(
            [(1, "Option 1", 0L), (2, "Option 2", 0L), (3, "Option 3", 0L)],
            empty["options"]!.AsArray().Select(o => ((int)o!["id"]!, (string)o["text"]!, (long)o["votes"]!)).ToArray());

        foreach (var (voter, option) in new[] { ("ann", 3), ("ben", 3), ("cat", 1) })
        {
            using var vote = await Server.Client.VoteAsync(id, [option], voter);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal(4, (long)results["seq"]!);
        Assert.Equal(3, (long)results["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 0, [3] = 2 }, ApiClient.Counts(results));

        var read = await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{id}");
        Assert.Equal(3, (long)read!["totalVotes"]!);
    }

    [Fact]
    public async Task Close_answers_the_closed_poll_refuses_later_votes_and_can_be_repeated()
    {
        var poll = await Server.Admin.CreatePollAsync(options: 2);
        var id = (string)poll["id"]!;
        using (var vote = await Server.Client.VoteAsync(id, [1], "before-close"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using var close = await Server.Admin.PostAsync($"/v1/polls/{id}/close", null);
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        var closed = await close.ReadJsonAsync();
        Assert.Equal(id, (string?)closed["id"]);
        Assert.Equal("closed", (string?)closed["status"]);
        Assert.NotNull(closed["closedAt"]);

        using (var late = await Server.Client.VoteAsync(id, [2], "after-close"))
        {
            await ApiClient.AssertProblemAsync(late, HttpStatusCode.Conflict, "poll-closed");
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal("closed", (string?)results["status"]);
        Assert.Equal(3, (long)results["seq"]!); // created, one vote, closed
        Assert.Equal(1, (long)results["totalVotes"]!);

        // Closing again is fine: same answer, no new event.
        using var again = await Server.Admin.PostAsync($"/v1/polls/{id}/close", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var twice = await again.ReadJsonAsync();
        Assert.Equal("closed", (string?)twice["status"]);
        Assert.Equal((string?)closed["closedAt"], (string?)twice["closedAt"]);
        Assert.Equal(3, (long)(await Server.Client.ResultsAsync(id))["seq"]!);

        var read = await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{id}");
        Assert.Equal("closed", (string?)read!["status"]);
    }

    [Fact]
    public async Task A_poll_closes_by_itself_at_closesAt()
    {
        var closesAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var poll = await Server.Admin.CreatePollAsync(new { question = "Quick one?", options = new[] { "yes", "no" }, closesAt });
        var id = (string)poll["id"]!;
        Assert.Equal("open", (string?)poll["status"]);
        using (var vote = await Server.Client.VoteAsync(id, [1], "in-time"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        // Bounded polling: the expiry sweep runs every second; nothing to await from outside.
        var deadline = DateTimeOffset.UtcNow + TestServer.Timeout;
        JsonObject read;
        while (true)
        {
            read = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{id}"))!;
            if ((string?)read["status"] == "closed" || DateTimeOffset.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal("closed", (string?)read["status"]);
        Assert.True(DateTimeOffset.UtcNow >= closesAt.AddMilliseconds(-1), "closed before closesAt");
        Assert.Equal(((DateTimeOffset)poll["closesAt"]!).ToUnixTimeMilliseconds(), ((DateTimeOffset)read["closedAt"]!).ToUnixTimeMilliseconds());

        using (var late = await Server.Client.VoteAsync(id, [2], "too-late"))
        {
            await ApiClient.AssertProblemAsync(late, HttpStatusCode.Conflict, "poll-closed");
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal("closed", (string?)results["status"]);
        Assert.Equal(1, (long)results["totalVotes"]!);
    }

    [Fact]
    public async Task Listing_pages_newest_first_without_duplicates_or_gaps()
    {
        // A server of its own: the pages must hold exactly these polls.
        await using var server = await TestServer.StartAsync();
        var created = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            created.Add((string)(await server.Admin.CreatePollAsync(new { question = $"Poll {i}?", options = new[] { "a", "b" } }))["id"]!);
        }

        var pages = await ReadAllPagesAsync(server.Admin, limit: 3);

        Assert.Equal([3, 3, 1], pages.Select(p => p.Count));
        var listed = pages.SelectMany(p => p).ToList();
        Assert.Equal(Enumerable.Reverse(created), listed.Select(p => (string)p["id"]!));
        Assert.Equal("Poll 6?", (string?)listed[0]["question"]);
        var createdAts = listed.Select(p => (DateTimeOffset)p["createdAt"]!).ToList();
        Assert.Equal(createdAts.OrderByDescending(t => t), createdAts);
        foreach (var field in PollFields)
        {
            Assert.True(listed[0].ContainsKey(field), $"a listed poll has no {field}");
        }

        // The default page (20) and the largest (100) hold them all, with no next page.
        foreach (var query in new[] { "/v1/polls", "/v1/polls?limit=100", "/v1/polls?limit=7" })
        {
            var all = (await server.Admin.GetFromJsonAsync<JsonObject>(query))!;
            Assert.Equal(7, all["items"]!.AsArray().Count);
            Assert.Null(all["nextCursor"]);
        }
    }

    [Fact]
    public async Task A_poll_created_while_paging_does_not_shift_the_later_pages()
    {
        await using var server = await TestServer.StartAsync();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((string)(await server.Admin.CreatePollAsync(options: 2))["id"]!);
        }

        var first = (await server.Admin.GetFromJsonAsync<JsonObject>("/v1/polls?limit=2"))!;
        var newcomer = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        var rest = await ReadAllPagesAsync(server.Admin, limit: 2, cursor: (string?)first["nextCursor"]);

        var listed = first["items"]!.AsArray().Select(p => (string)p!["id"]!).Concat(rest.SelectMany(p => p).Select(p => (string)p["id"]!)).ToList();
        Assert.Equal(Enumerable.Reverse(created), listed);
        Assert.DoesNotContain(newcomer, listed);

        var fresh = (await server.Admin.GetFromJsonAsync<JsonObject>("/v1/polls?limit=1"))!;
        Assert.Equal(newcomer, (string?)fresh["items"]![0]!["id"]);
    }

    [Fact]
    public async Task Unusual_but_valid_text_round_trips()
    {
        var question = "Quelle \u00e9quipe? \U0001F3C6 \u05e9\u05dc\u05d5\u05dd \"quoted\" \\ tab\there \u0000 nul";
        string[] options = ["\U0001F600", "</script><script>alert(1)</script>", new string('\u00e9', 200)];
        var poll = await Server.Admin.CreatePollAsync(new { question, options });
        var id = (string)poll["id"]!;
        using (var vote = await Server.Client.VoteAsync(id, [1], "\U0001F464 voter \u05e9 </script>"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using (var control = await Server.Client.VoteAsync(id, [1], "\U0001F464 voter \u0000"))
        {
            await ApiClient.AssertProblemAsync(control, HttpStatusCode.UnprocessableEntity, "validation"); // a voterId has no control characters
        }

        var read = (await Server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{id}"))!;
        Assert.Equal(question, (string?)read["question"]);
        Assert.Equal(options, read["options"]!.AsArray().Select(o => (string)o!["text"]!));
        Assert.Equal(1, (long)(await Server.Client.ResultsAsync(id))["options"]![0]!["votes"]!);
    }

    [Fact]
    public async Task Reads_of_an_unknown_poll_are_404()
    {
        using var get = await Server.Client.GetAsync("/v1/polls/doesnotexist");
        await ApiClient.AssertProblemAsync(get, HttpStatusCode.NotFound, "poll-not-found");
        using var results = await Server.Client.GetAsync("/v1/polls/doesnotexist/results");
        await ApiClient.AssertProblemAsync(results, HttpStatusCode.NotFound, "poll-not-found");
        using var close = await Server.Admin.PostAsync("/v1/polls/doesnotexist/close", null);
        await ApiClient.AssertProblemAsync(close, HttpStatusCode.NotFound, "poll-not-found");
    }

    /// <summary>Follows nextCursor to the end; fails on a loop rather than running forever.</summary>
    private static async Task<List<List<JsonObject>>> ReadAllPagesAsync(HttpClient admin, int limit, string? cursor = null)
    {
        var pages = new List<List<JsonObject>>();
        var first = true;
        while (first || cursor is not null)
        {
            first = false;
            var url = $"/v1/polls?limit={limit}" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = (await admin.GetFromJsonAsync<JsonObject>(url))!;
            pages.Add([.. page["items"]!.AsArray().Select(p => p!.AsObject())]);
            cursor = (string?)page["nextCursor"];
            Assert.True(pages.Count <= 100, "nextCursor never ends");
        }

        return pages;
    }
}
