using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary><c>GET /v1/polls/{id}/export</c>: every ballot of a poll as NDJSON or CSV, streamed from the log.</summary>
public sealed class ExportTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;

    private async Task<string> ExportAsync(string id, string query = "", HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Server.Admin.GetAsync($"/v1/polls/{id}/export{query}", HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"export: {(int)response.StatusCode} {text}");
        return text;
    }

    private static JsonObject[] Lines(string ndjson) =>
        [.. ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)!.AsObject())];

    private async Task<(string Id, long Seq)> PollWithHistoryAsync(string? trickyVoter = null)
    {
        var id = (string)(await Server.Admin.CreatePollAsync(options: 3, allowChange: true))["id"]!;
        foreach (var (option, voter) in new[] { (1, "ann"), (2, trickyVoter ?? "bob"), (3, "ann") })
        {
            using var vote = await Server.Client.VoteAsync(id, [option], voter);
            Assert.True(vote.IsSuccessStatusCode);
        }

        using var close = await Server.Admin.PostAsync($"/v1/polls/{id}/close", null);
        return (id, (long)(await close.ReadJsonAsync())["totalVotes"]! + 3); // created, 2 casts, 1 change, closed
    }

    [Fact]
    public async Task Ndjson_gives_the_poll_every_ballot_change_and_the_close_then_the_results_at_that_seq()
    {
        var (id, _) = await PollWithHistoryAsync();

        var lines = Lines(await ExportAsync(id, "?voters=raw"));

        Assert.Equal(["poll", "cast", "cast", "changed", "closed", "results"], lines.Select(l => (string)l["type"]!));
        Assert.Equal(id, (string)lines[0]["poll"]!["id"]!);
        Assert.Equal("raw", (string?)lines[0]["voters"]);
        Assert.Equal((2L, $"{id}-2", "ann", "[1]"), ((long)lines[1]["seq"]!, (string)lines[1]["voteId"]!, (string)lines[1]["voter"]!, lines[1]["optionIds"]!.ToJsonString()));
        Assert.Equal(($"{id}-2", "[3]", "[1]"), ((string)lines[3]["voteId"]!, lines[3]["optionIds"]!.ToJsonString(), lines[3]["previousOptionIds"]!.ToJsonString()));
        Assert.Equal("admin", (string?)lines[4]["reason"]);
        var results = lines[5]["results"]!;
        Assert.Equal(5, (long)results["seq"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1, [3] = 1 }, ApiClient.Counts(results.AsObject()));
    }

    [Fact]
    public async Task Voters_are_hashed_by_default_stable_within_a_poll_and_can_be_left_out()
    {
        var (id, _) = await PollWithHistoryAsync();
        var (other, _) = await PollWithHistoryAsync();

        var hashed = Lines(await ExportAsync(id));
        var voters = hashed.Where(l => l["voter"] is not null).Select(l => (string)l["voter"]!).ToArray();
        Assert.All(voters, v => Assert.Matches("^h:[0-9a-f]{32}$", v));
        Assert.Equal(voters[0], voters[2]); // ann cast, ann changed
        Assert.NotEqual(voters[0], voters[1]);
        Assert.DoesNotContain("ann", string.Join(",", voters), StringComparison.Ordinal);
        var elsewhere = Lines(await ExportAsync(other)).Where(l => l["voter"] is not null).Select(l => (string)l["voter"]!).First();
        Assert.NotEqual(voters[0], elsewhere); // the same voter on another poll: another hash

        var omitted = Lines(await ExportAsync(id, "?voters=omitted"));
        Assert.All(omitted.Skip(1).SkipLast(1), l => Assert.False(l.ContainsKey("voter")));
    }

    [Fact]
    public async Task Csv_quotes_what_needs_quoting_and_defuses_formulas()
    {
        var (id, _) = await PollWithHistoryAsync(trickyVoter: "=HYPERLINK(\"x\",1)");

        using var response = await Server.Admin.GetAsync($"/v1/polls/{id}/export?format=csv&voters=raw");
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var rows = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("seq,at,type,vote_id,voter,option_ids,previous_option_ids,value", rows[0]);
        Assert.Matches($"^2,\\d{{4}}-\\d\\d-\\d\\dT[0-9:.]+Z,cast,{id}-2,ann,1,,$", rows[1]);
        Assert.EndsWith($",cast,{id}-3,\"'=HYPERLINK(\"\"x\"\",1)\",2,,", rows[2], StringComparison.Ordinal);
        Assert.EndsWith($",changed,{id}-2,ann,3,1,", rows[3], StringComparison.Ordinal);
        Assert.Matches("^5,[^,]+,closed,,,,,$", rows[4]);
        Assert.Equal(5, rows.Length);
    }

    [Fact]
    public async Task A_rating_export_has_each_ballots_value_and_a_ranking_export_keeps_the_order()
    {
        var rating = (string)(await Server.Admin.CreatePollAsync(new { question = "Rate", kind = "rating", scale = new { min = 0, max = 10 } }))["id"]!;
        using (var vote = await Server.Client.PostAsJsonAsync($"/v1/polls/{rating}/votes", new { value = 7, voterId = "ann" }))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var ranking = (string)(await Server.Admin.CreatePollAsync(new { question = "Order", kind = "ranking", options = new[] { "A", "B", "C" } }))["id"]!;
        using (var vote = await Server.Client.VoteAsync(ranking, [3, 1, 2], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        // An export runs through the seq of the results when it starts, and a ranking poll's results are published
        // at most every 250 ms: wait for the vote's seq as a client reading its own vote would.
        await Tally.Testing.Eventually.WaitUntilAsync(async () => (long)(await Server.Client.ResultsAsync(ranking))["seq"]! == 2, TestServer.Timeout);

        Assert.Equal(7, (int)Lines(await ExportAsync(rating))[1]["value"]!);
        Assert.EndsWith(",8,,7", (await ExportAsync(rating, "?format=csv")).Split('\n')[1], StringComparison.Ordinal);
        Assert.Equal("[3,1,2]", Lines(await ExportAsync(ranking))[1]["optionIds"]!.ToJsonString());
        Assert.EndsWith(",3 1 2,,", (await ExportAsync(ranking, "?format=csv")).Split('\n')[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hundred_thousand_ballots_stream_out_each_once_and_match_the_results()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(options: 3, dedupe: "none"))["id"]!;
        const int Batches = 100, PerBatch = 1_000;
        for (var b = 0; b < Batches; b++)
        {
            var votes = Enumerable.Range(0, PerBatch).Select(i => new { pollId = id, optionIds = new[] { 1 + ((b + i) % 3) }, voterId = $"v{b}-{i}" }).ToArray();
            using var response = await Server.Client.PostAsJsonAsync("/v1/votes/batch", new { votes });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var export = await Server.Admin.GetAsync($"/v1/polls/{id}/export?format=csv&voters=omitted", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Null(export.Content.Headers.ContentLength); // streamed (chunked), not buffered whole
        using var reader = new StreamReader(await export.Content.ReadAsStreamAsync());
        Assert.Equal("seq,at,type,vote_id,option_ids,previous_option_ids,value", await reader.ReadLineAsync());
        var counts = new long[4];
        var seqs = new HashSet<long>();
        while (await reader.ReadLineAsync() is { } row)
        {
            var fields = row.Split(',');
            Assert.Equal("cast", fields[2]);
            Assert.True(seqs.Add(long.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture)));
            counts[int.Parse(fields[4], System.Globalization.CultureInfo.InvariantCulture)]++;
        }

        Assert.Equal(Batches * PerBatch, seqs.Count);
        var results = ApiClient.Counts(await Server.Client.ResultsAsync(id));
        Assert.Equal([results[1], results[2], results[3]], counts[1..]);
    }

    [Fact]
    public async Task Opening_pausing_resuming_and_the_limit_close_are_rows_too()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(new { question = "Go?", options = new[] { "A", "B" }, draft = true, maxBallots = 1 }))["id"]!;
        foreach (var verb in new[] { "open", "pause", "resume" })
        {
            using var response = await Server.Admin.PostAsync($"/v1/polls/{id}/{verb}", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var vote = await Server.Client.VoteAsync(id, [2], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var lines = Lines(await ExportAsync(id));
        Assert.Equal(["poll", "opened", "paused", "resumed", "cast", "closed", "results"], lines.Select(l => (string)l["type"]!));
        Assert.Equal("admin", (string?)lines[1]["reason"]);
        Assert.Equal("limit", (string?)lines[5]["reason"]);
        var rows = (await ExportAsync(id, "?format=csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["opened", "paused", "resumed", "cast", "closed-limit"], rows.Skip(1).Select(r => r.Split(',')[2]));
        Assert.All(rows, r => Assert.Equal(8, r.Split(',').Length));
    }

    [Fact]
    public async Task An_erased_voter_leaves_the_counts_and_no_export_shows_them()
    {
        var (id, _) = await PollWithHistoryAsync(); // ann cast 1 then changed to 3; bob cast 2
        using (var erase = await Server.Admin.PostAsJsonAsync($"/v1/polls/{id}/erasures", new { voterId = "ann" }))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
            var body = await erase.ReadJsonAsync();
            Assert.Equal((true, $"{id}-2", 6L), ((bool)body["erased"]!, (string)body["voteId"]!, (long)body["seq"]!));
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1, [3] = 0 }, ApiClient.Counts(await Server.Client.ResultsAsync(id)));
        var raw = await ExportAsync(id, "?voters=raw");
        Assert.DoesNotContain("ann", raw, StringComparison.Ordinal);
        var lines = Lines(raw);
        Assert.Equal(["poll", "cast", "cast", "changed", "closed", "erased", "results"], lines.Select(l => (string)l["type"]!));
        Assert.Null(lines[1]["voter"]);
        Assert.Equal("bob", (string?)lines[2]["voter"]);
        Assert.Equal("[3]", lines[5]["optionIds"]!.ToJsonString());
        Assert.DoesNotContain("ann", await ExportAsync(id, "?format=csv&voters=raw"), StringComparison.Ordinal);

        using (var again = await Server.Admin.PostAsJsonAsync($"/v1/polls/{id}/erasures", new { voterId = "ann" }))
        {
            Assert.False((bool)(await again.ReadJsonAsync())["erased"]!);
        }

        using var verify = await Server.Admin.PostAsync("/v1/verify", null);
        Assert.True((bool)(await verify.ReadJsonAsync())["ok"]!);
    }

    [Fact]
    public async Task A_bad_erasure_is_refused()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var missing = await Server.Admin.PostAsJsonAsync($"/v1/polls/{id}/erasures", new { }))
        {
            await ApiClient.AssertProblemAsync(missing, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var invisible = await Server.Admin.PostAsJsonAsync($"/v1/polls/{id}/erasures", new { voterId = "ann\u200b" }))
        {
            await ApiClient.AssertProblemAsync(invisible, HttpStatusCode.UnprocessableEntity, "validation");
        }

        var none = (string)(await Server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        using (var noBallots = await Server.Admin.PostAsJsonAsync($"/v1/polls/{none}/erasures", new { voterId = "ann" }))
        {
            await ApiClient.AssertProblemAsync(noBallots, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var anonymous = await Server.Client.PostAsJsonAsync($"/v1/polls/{id}/erasures", new { voterId = "ann" }))
        {
            await ApiClient.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var unknown = await Server.Admin.PostAsJsonAsync("/v1/polls/nosuchpoll/erasures", new { voterId = "ann" });
        await ApiClient.AssertProblemAsync(unknown, HttpStatusCode.NotFound, "poll-not-found");
    }

    [Theory]
    [InlineData("?format=xml")]
    [InlineData("?voters=everyone")]
    public async Task A_bad_query_is_a_400(string query)
    {
        var id = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;

        using var response = await Server.Admin.GetAsync($"/v1/polls/{id}/export{query}");

        await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-query");
    }

    [Fact]
    public async Task Only_a_manager_of_the_polls_workspace_exports_it()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var nobody = await Server.Client.GetAsync($"/v1/polls/{id}/export"))
        {
            await ApiClient.AssertProblemAsync(nobody, HttpStatusCode.Unauthorized, "unauthorized");
        }

        var workspace = "ws-" + Guid.NewGuid().ToString("N")[..10];
        using (var made = await Server.Admin.PostAsJsonAsync("/v1/workspaces", new { id = workspace }))
        {
            Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        }

        foreach (var (scopes, status, slug) in new[] { (new[] { "polls:read" }, HttpStatusCode.Forbidden, "forbidden"), (["polls:manage"], HttpStatusCode.NotFound, "poll-not-found") })
        {
            using var key = await Server.Admin.PostAsJsonAsync($"/v1/workspaces/{workspace}/keys", new { name = "k", scopes });
            var secret = (string)(await key.ReadJsonAsync())["key"]!;
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{id}/export");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
            using var response = await Server.Client.SendAsync(request);
            await ApiClient.AssertProblemAsync(response, status, slug); // another workspace's manager never sees the poll
        }

        using var missing = await Server.Admin.GetAsync("/v1/polls/nosuchpoll/export");
        await ApiClient.AssertProblemAsync(missing, HttpStatusCode.NotFound, "poll-not-found");
    }
}
