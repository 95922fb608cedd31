using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests;

/// <summary>Voting: single votes, changes, dedupe policies, multiple choice, idempotency, batches, and concurrency.</summary>
public sealed class VoteApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;

    private HttpClient Client => fixture.Server.Client;

    [Fact]
    public async Task A_vote_is_counted_with_201()
    {
        var id = await CreatePollAsync(options: 3);

        using var response = await Client.VoteAsync(id, [3], "alice");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var vote = await response.ReadJsonAsync();
        Assert.False(string.IsNullOrWhiteSpace((string?)vote["voteId"]));
        Assert.Equal(2, (long)vote["seq"]!);
        Assert.Equal("counted", (string?)vote["status"]);
        var results = await Client.ResultsAsync(id);
        Assert.Equal(2, (long)results["seq"]!);
        Assert.Equal(1, (long)results["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 0, [3] = 1 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task Under_voter_dedupe_the_same_voter_again_is_409_and_not_counted()
    {
        var id = await CreatePollAsync(options: 2);
        using (var first = await Client.VoteAsync(id, [1], "bob"))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using (var same = await Client.VoteAsync(id, [1], "bob"))
        {
            await ApiClient.AssertProblemAsync(same, HttpStatusCode.Conflict, "already-voted");
        }

        using (var other = await Client.VoteAsync(id, [2], "bob"))
        {
            await ApiClient.AssertProblemAsync(other, HttpStatusCode.Conflict, "already-voted");
        }

        var results = await Client.ResultsAsync(id);
        Assert.Equal(1, (long)results["totalVotes"]!);
        Assert.Equal(2, (long)results["seq"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 0 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task With_allowChange_the_same_voter_again_changes_the_vote_with_200()
    {
        var id = await CreatePollAsync(options: 3, allowChange: true);
        using (var other = await Client.VoteAsync(id, [1], "someone-else"))
        {
            Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        }

        using var first = await Client.VoteAsync(id, [1], "carol");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var counted = await first.ReadJsonAsync();
        Assert.Equal(new Dictionary<int, long> { [1] = 2, [2] = 0, [3] = 0 }, ApiClient.Counts(await Client.ResultsAsync(id)));

        using var change = await Client.VoteAsync(id, [3], "carol");
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        var changed = await change.ReadJsonAsync();
        Assert.Equal("changed", (string?)changed["status"]);
        Assert.Equal((long)counted["seq"]! + 1, (long)changed["seq"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)changed["voteId"]));

        var results = await Client.ResultsAsync(id);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 0, [3] = 1 }, ApiClient.Counts(results)); // old option -1, new +1
        Assert.Equal(2, (long)results["totalVotes"]!); // a change is not a new ballot
        Assert.Equal((long)changed["seq"]!, (long)results["seq"]!);

        using var back = await Client.VoteAsync(id, [2], "carol");
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        results = await Client.ResultsAsync(id);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 1, [3] = 0 }, ApiClient.Counts(results));
        Assert.Equal(2, (long)results["totalVotes"]!);
    }

    [Fact]
    public async Task With_allowChange_a_multiple_choice_change_moves_only_the_options_that_differ()
    {
        var id = await CreatePollAsync(options: 4, allowChange: true, kind: "multiple");
        using (var first = await Client.VoteAsync(id, [1, 2], "dan"))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using (var change = await Client.VoteAsync(id, [2, 4], "dan"))
        {
            Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        }

        var results = await Client.ResultsAsync(id);
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1, [3] = 0, [4] = 1 }, ApiClient.Counts(results));
        Assert.Equal(1, (long)results["totalVotes"]!);
    }

    [Fact]
    public async Task Dedupe_none_counts_every_vote_with_or_without_voterId()
    {
        var id = await CreatePollAsync(options: 2, dedupe: "none");

        var statuses = new List<HttpStatusCode>();
        foreach (var (option, voter) in new (int, string?)[] { (1, null), (1, null), (2, null), (2, "erin"), (2, "erin") })
        {
            using var response = await Client.VoteAsync(id, [option], voter);
            statuses.Add(response.StatusCode);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Created, s));
        using (var noVoterField = await Client.PostRawAsync($"/v1/polls/{id}/votes", """{"optionIds":[1]}"""))
        {
            Assert.Equal(HttpStatusCode.Created, noVoterField.StatusCode);
        }

        var results = await Client.ResultsAsync(id);
        Assert.Equal(6, (long)results["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 3, [2] = 3 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task A_multiple_choice_ballot_counts_each_option_and_one_ballot()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(new
        {
            question = "Which ones?",
            options = new[] { "a", "b", "c", "d" },
            kind = "multiple",
            maxChoices = 3,
        }))["id"]!;

        foreach (var (voter, options) in new[] { ("f1", new[] { 1, 2 }), ("f2", new[] { 2, 3, 4 }), ("f3", new[] { 4 }) })
        {
            using var response = await Client.VoteAsync(id, options, voter);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var results = await Client.ResultsAsync(id);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 2, [3] = 1, [4] = 2 }, ApiClient.Counts(results));
        Assert.Equal(3, (long)results["totalVotes"]!);
    }

    [Fact]
    public async Task An_idempotent_retry_returns_the_first_answer_and_counts_once()
    {
        var id = await CreatePollAsync(options: 3);

        using var first = await Client.VoteAsync(id, [2], "gina", idempotencyKey: "retry-1");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var original = await first.ReadJsonAsync();

        // Another vote in between: the retry must still answer the first seq, not the latest.
        using (var between = await Client.VoteAsync(id, [1], "hank"))
        {
            Assert.Equal(HttpStatusCode.Created, between.StatusCode);
        }

        for (var i = 0; i < 3; i++)
        {
            using var retry = await Client.VoteAsync(id, [2], "gina", idempotencyKey: "retry-1");
            Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
            Assert.True(JsonNode.DeepEquals(original, await retry.ReadJsonAsync()));
        }

        var results = await Client.ResultsAsync(id);
        Assert.Equal(2, (long)results["totalVotes"]!);
        Assert.Equal(3, (long)results["seq"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 1, [3] = 0 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task An_idempotent_retry_after_the_poll_closed_still_returns_the_first_answer()
    {
        var id = await CreatePollAsync(options: 2);
        using var first = await Client.VoteAsync(id, [1], "ivan", idempotencyKey: "before-close");
        var original = await first.ReadJsonAsync();
        using (var close = await Server.Admin.PostAsync($"/v1/polls/{id}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        using var retry = await Client.VoteAsync(id, [1], "ivan", idempotencyKey: "before-close");

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.True(JsonNode.DeepEquals(original, await retry.ReadJsonAsync()));
        using var fresh = await Client.VoteAsync(id, [1], "ivan", idempotencyKey: "after-close");
        await ApiClient.AssertProblemAsync(fresh, HttpStatusCode.Conflict, "poll-closed");
    }

    [Fact]
    public async Task An_idempotent_retry_of_a_change_answers_200_changed_again()
    {
        var id = await CreatePollAsync(options: 2, allowChange: true);
        using (var first = await Client.VoteAsync(id, [1], "jade"))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using var change = await Client.VoteAsync(id, [2], "jade", idempotencyKey: "change-1");
        Assert.Equal(HttpStatusCode.OK, change.StatusCode);
        var changed = await change.ReadJsonAsync();

        using var retry = await Client.VoteAsync(id, [2], "jade", idempotencyKey: "change-1");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.True(JsonNode.DeepEquals(changed, await retry.ReadJsonAsync()));
        var results = await Client.ResultsAsync(id);
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1 }, ApiClient.Counts(results));
        Assert.Equal(3, (long)results["seq"]!);
    }

    [Theory]
    [InlineData("other option", new[] { 2 }, "kim")]
    [InlineData("other voter", new[] { 1 }, "lee")]
    [InlineData("more options", new[] { 1, 2 }, "kim")]
    public async Task The_same_idempotency_key_with_another_body_is_422(string what, int[] optionIds, string voterId)
    {
        var id = await CreatePollAsync(options: 3, dedupe: "none", kind: "multiple");
        using (var first = await Client.VoteAsync(id, [1], "kim", idempotencyKey: "reused"))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using var reused = await Client.VoteAsync(id, optionIds, voterId, idempotencyKey: "reused");

        var problem = await ApiClient.AssertProblemAsync(reused, HttpStatusCode.UnprocessableEntity, "idempotency-key-reused");
        Assert.Contains("reused", (string?)problem["detail"], StringComparison.Ordinal);
        var results = await Client.ResultsAsync(id);
        Assert.True(1 == (long)results["totalVotes"]!, what);
    }

    [Fact]
    public async Task The_same_choices_in_another_order_are_the_same_request()
    {
        var id = await CreatePollAsync(options: 3, kind: "multiple");
        using var first = await Client.VoteAsync(id, [1, 3], "mia", idempotencyKey: "order");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        using var retry = await Client.VoteAsync(id, [3, 1], "mia", idempotencyKey: "order");

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.True(JsonNode.DeepEquals(await first.ReadJsonAsync(), await retry.ReadJsonAsync()));
        Assert.Equal(1, (long)(await Client.ResultsAsync(id))["totalVotes"]!);
    }

    [Fact]
    public async Task A_body_of_exactly_64_KiB_is_accepted()
    {
        var id = await CreatePollAsync(options: 2);
        var head = """{"optionIds":[1],"voterId":"exactly-64k" """.TrimEnd();
        var body = head + new string(' ', (64 * 1024) - head.Length - 1) + "}";
        Assert.Equal(64 * 1024, Encoding.UTF8.GetByteCount(body));

        using var response = await Client.PostRawAsync($"/v1/polls/{id}/votes", body);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task A_batch_answers_each_vote_in_order()
    {
        var single = await CreatePollAsync(options: 3);
        var changeable = await CreatePollAsync(options: 2, allowChange: true);
        var closed = await CreatePollAsync(options: 2);
        using (var close = await Server.Admin.PostAsync($"/v1/polls/{closed}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        var votes = new object[]
        {
            new { pollId = single, optionIds = new[] { 1 }, voterId = "nia" },       // counted
            new { pollId = single, optionIds = new[] { 2 }, voterId = "nia" },       // duplicate (same voter, same batch)
            new { pollId = single, optionIds = new[] { 9 }, voterId = "oli" },       // rejected: unknown option
            new { pollId = changeable, optionIds = new[] { 1 }, voterId = "pat" },   // counted
            new { pollId = changeable, optionIds = new[] { 2 }, voterId = "pat" },   // changed
            new { pollId = "nosuchpoll", optionIds = new[] { 1 }, voterId = "quin" }, // rejected: no such poll
            new { pollId = closed, optionIds = new[] { 1 }, voterId = "rae" },       // rejected: closed
            new { pollId = single, optionIds = Array.Empty<int>(), voterId = "sam" }, // rejected: no option
            new { pollId = single, optionIds = new[] { 3 }, voterId = "tom" },       // counted
        };

        using var response = await Client.PostAsJsonAsync("/v1/votes/batch", new { votes });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync())["results"]!.AsArray();
        Assert.Equal(
            ["counted", "duplicate", "rejected", "counted", "changed", "rejected", "rejected", "rejected", "counted"],
            results.Select(r => (string)r!["status"]!));
        Assert.Equal(
            [null, "already-voted", "unknown-option", null, null, "poll-not-found", "poll-closed", "validation", null],
            results.Select(r => ((string?)r!["error"]?["type"])?.Replace("urn:tally:problem:", string.Empty, StringComparison.Ordinal)));
        foreach (var r in results)
        {
            var ok = (string)r!["status"]! is "counted" or "changed";
            Assert.Equal(ok, r["voteId"] is not null);
            Assert.Equal(ok, r["seq"] is not null);
            Assert.Equal(ok, r["error"] is null);
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 0, [3] = 1 }, ApiClient.Counts(await Client.ResultsAsync(single)));
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1 }, ApiClient.Counts(await Client.ResultsAsync(changeable)));
        Assert.Equal(0, (long)(await Client.ResultsAsync(closed))["totalVotes"]!);
    }

    [Fact]
    public async Task A_batch_with_idempotency_keys_retried_whole_counts_once()
    {
        var a = await CreatePollAsync(options: 2);
        var b = await CreatePollAsync(options: 2, dedupe: "none");
        var votes = Enumerable.Range(0, 20).Select(i => new
        {
            pollId = i % 2 == 0 ? a : b,
            optionIds = new[] { (i % 4 < 2) ? 1 : 2 },
            voterId = $"batch-voter-{i}",
            idempotencyKey = $"batch-key-{i}",
        }).ToArray();

        using var first = await Client.PostAsJsonAsync("/v1/votes/batch", new { votes });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var firstResults = await first.ReadJsonAsync();
        Assert.All(firstResults["results"]!.AsArray(), r => Assert.Equal("counted", (string?)r!["status"]));

        using var retry = await Client.PostAsJsonAsync("/v1/votes/batch", new { votes });
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);

        Assert.True(JsonNode.DeepEquals(firstResults, await retry.ReadJsonAsync()));
        var resultsA = await Client.ResultsAsync(a);
        var resultsB = await Client.ResultsAsync(b);
        Assert.Equal(10, (long)resultsA["totalVotes"]!);
        Assert.Equal(11, (long)resultsA["seq"]!);
        Assert.Equal(10, (long)resultsB["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 5, [2] = 5 }, ApiClient.Counts(resultsA));
    }

    [Fact]
    public async Task A_batch_of_exactly_10000_votes_is_accepted()
    {
        var id = await CreatePollAsync(options: 2);
        var votes = Enumerable.Range(0, 10_000).Select(i => new { pollId = id, optionIds = new[] { (i % 2) + 1 }, voterId = $"v{i}" }).ToArray();

        using var response = await Client.PostAsJsonAsync("/v1/votes/batch", new { votes });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync())["results"]!.AsArray();
        Assert.Equal(10_000, results.Count);
        Assert.All(results, r => Assert.Equal("counted", (string?)r!["status"]));
        var tally = await Client.ResultsAsync(id);
        Assert.Equal(10_000, (long)tally["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 5_000, [2] = 5_000 }, ApiClient.Counts(tally));
    }

    [Fact]
    public async Task Concurrent_voters_with_parallel_idempotent_retries_are_counted_exactly_once_each()
    {
        const int voters = 200;
        var id = await CreatePollAsync(options: 3);

        // Each voter's request goes out three times at once (the original and two retries) with one key.
        var requests = Enumerable.Range(0, voters)
            .SelectMany(v => Enumerable.Range(0, 3).Select(_ => SendAsync(v)))
            .ToArray();
        var answers = await Task.WhenAll(requests).WaitAsync(TestServer.Timeout);

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.Created, $"{a.Voter}: {(int)a.Status} {a.Body}"));
        foreach (var group in answers.GroupBy(a => a.Voter))
        {
            var bodies = group.Select(a => JsonNode.Parse(a.Body)!).ToArray();
            Assert.All(bodies, b => Assert.True(JsonNode.DeepEquals(bodies[0], b), $"{group.Key} got different answers"));
        }

        Assert.Equal(voters, answers.Select(a => (string)JsonNode.Parse(a.Body)!["voteId"]!).Distinct().Count());
        var results = await Client.ResultsAsync(id);
        Assert.Equal(voters, (long)results["totalVotes"]!);
        Assert.Equal(1 + voters, (long)results["seq"]!);
        Assert.Equal(ExpectedCounts(voters), ApiClient.Counts(results));

        async Task<(string Voter, HttpStatusCode Status, string Body)> SendAsync(int voter)
        {
            using var response = await Client.VoteAsync(id, [(voter % 3) + 1], $"cv-{voter}", idempotencyKey: $"ck-{voter}");
            return ($"cv-{voter}", response.StatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Concurrent_voters_with_parallel_retries_without_a_key_get_one_201_and_409s()
    {
        const int voters = 200;
        var id = await CreatePollAsync(options: 3);

        var requests = Enumerable.Range(0, voters)
            .SelectMany(v => Enumerable.Range(0, 3).Select(_ => SendAsync(v)))
            .ToArray();
        var answers = await Task.WhenAll(requests).WaitAsync(TestServer.Timeout);

        foreach (var group in answers.GroupBy(a => a.Voter))
        {
            Assert.Equal(1, group.Count(a => a.Status == HttpStatusCode.Created));
            Assert.Equal(2, group.Count(a => a.Status == HttpStatusCode.Conflict));
        }

        var results = await Client.ResultsAsync(id);
        Assert.Equal(voters, (long)results["totalVotes"]!);
        Assert.Equal(1 + voters, (long)results["seq"]!);
        Assert.Equal(ExpectedCounts(voters), ApiClient.Counts(results));

        async Task<(string Voter, HttpStatusCode Status)> SendAsync(int voter)
        {
            using var response = await Client.VoteAsync(id, [(voter % 3) + 1], $"nv-{voter}");
            return ($"nv-{voter}", response.StatusCode);
        }
    }

    [Fact]
    public async Task Fifty_parallel_votes_by_one_voter_count_once()
    {
        var id = await CreatePollAsync(options: 2);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await Client.VoteAsync(id, [(i % 2) + 1], "same-voter");
            var body = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, Body: body);
        })).WaitAsync(TestServer.Timeout);

        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(49, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        Assert.All(answers.Where(a => a.StatusCode == HttpStatusCode.Conflict), a => Assert.Contains("already-voted", a.Body, StringComparison.Ordinal));
        var results = await Client.ResultsAsync(id);
        Assert.Equal(1, (long)results["totalVotes"]!);
        Assert.Equal(2, (long)results["seq"]!);
        Assert.Equal(1, ApiClient.Counts(results).Values.Sum());
    }

    [Fact]
    public async Task Fifty_parallel_votes_by_one_voter_with_allowChange_make_one_ballot()
    {
        var id = await CreatePollAsync(options: 2, allowChange: true);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var response = await Client.VoteAsync(id, [(i % 2) + 1], "changer");
            return response.StatusCode;
        })).WaitAsync(TestServer.Timeout);

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(49, statuses.Count(s => s == HttpStatusCode.OK));
        var results = await Client.ResultsAsync(id);
        Assert.Equal(1, (long)results["totalVotes"]!);
        Assert.Equal(51, (long)results["seq"]!);
        Assert.Equal(1, ApiClient.Counts(results).Values.Sum());
    }

    [Fact]
    public async Task After_a_failed_append_no_vote_of_that_batch_is_answered_as_counted()
    {
        await using var server = await TestServer.StartWithControlledLogAsync();
        var id = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        var vote = new { pollId = id, optionIds = new[] { 1 }, voterId = "una", idempotencyKey = "same-key" };
        server.Services.GetRequiredService<ControlledEventLog>().FailNext();

        // The same ballot twice with one key (a client retry inside one batch): one partition batch, one append.
        // Neither is counted, not even the second as a replay of the first: nothing of the batch counted, so the
        // batch is refused as a whole.
        using var response = await server.Client.PostAsJsonAsync("/v1/votes/batch", new { votes = new[] { vote, vote } });

        await ApiClient.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Equal(0, (long)(await server.Client.ResultsAsync(id))["totalVotes"]!);
    }

    [Fact]
    public async Task After_a_failed_append_no_vote_of_that_batch_is_answered_as_a_duplicate()
    {
        await using var server = await TestServer.StartWithControlledLogAsync();
        var id = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        server.Services.GetRequiredService<ControlledEventLog>().FailNext();

        using var response = await server.Client.PostAsJsonAsync("/v1/votes/batch", new
        {
            votes = new[]
            {
                new { pollId = id, optionIds = new[] { 1 }, voterId = "vic" },
                new { pollId = id, optionIds = new[] { 2 }, voterId = "vic" },
            },
        });

        // Not counted, nor the second already-voted on account of the first: the batch is refused as a whole.
        await ApiClient.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Equal(0, (long)(await server.Client.ResultsAsync(id))["totalVotes"]!);
    }

    [Fact]
    public async Task After_a_failed_append_the_vote_is_not_counted_and_a_retry_counts_it()
    {
        await using var server = await TestServer.StartWithControlledLogAsync();
        var id = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
        server.Services.GetRequiredService<ControlledEventLog>().FailNext();

        using (var failed = await server.Client.VoteAsync(id, [1], "wes", idempotencyKey: "k1"))
        {
            await ApiClient.AssertProblemAsync(failed, HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.NotNull(failed.Headers.RetryAfter);
        }

        Assert.Equal(0, (long)(await server.Client.ResultsAsync(id))["totalVotes"]!);
        using var retry = await server.Client.VoteAsync(id, [1], "wes", idempotencyKey: "k1");
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        var results = await server.Client.ResultsAsync(id);
        Assert.Equal(1, (long)results["totalVotes"]!);
        Assert.Equal(2, (long)results["seq"]!);
    }

    private static Dictionary<int, long> ExpectedCounts(int voters) =>
        Enumerable.Range(1, 3).ToDictionary(option => option, option => (long)Enumerable.Range(0, voters).Count(v => (v % 3) + 1 == option));

    private async Task<string> CreatePollAsync(int options, string dedupe = "voter", bool allowChange = false, string kind = "single") =>
        (string)(await Server.Admin.CreatePollAsync(options, dedupe, allowChange, kind))["id"]!;
}
