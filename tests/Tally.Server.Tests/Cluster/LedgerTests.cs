using System.Net;
using System.Net.Http.Json;
using Npgsql;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;
using Tally.Testing.Engines;

namespace Tally.Server.Tests.Cluster;

/// <summary>The PostgreSQL ledger (poll definitions, ballots): written from the stream, never on a vote's path.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LedgerTests(ClusterFixture fixture)
{
    [Fact]
    public async Task The_ledger_holds_the_poll_and_one_row_per_ballot_with_its_current_choice()
    {
        await using var node = await TestServer.StartAsync(fixture.NodeSettings(ClusterFixture.NewClusterName(), "a"));
        var poll = (string)(await node.Admin.CreatePollAsync(options: 3, allowChange: true))["id"]!;
        using (var first = await node.Client.VoteAsync(poll, [1], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using (var changed = await node.Client.VoteAsync(poll, [3], "ann"))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        using (var other = await node.Client.VoteAsync(poll, [2], "bob"))
        {
            Assert.Equal(HttpStatusCode.Created, other.StatusCode);
        }

        await using var data = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString);
        await Eventually.WaitUntilAsync(() => BallotsAsync(data, poll).GetAwaiter().GetResult() == "ann:3,bob:2", TestServer.Timeout);
        await using var question = data.CreateCommand("SELECT question || '|' || array_to_string(options, ',') || '|' || status FROM polls WHERE id = $1");
        question.Parameters.AddWithValue(poll);
        Assert.Equal("Which one?|Option 1,Option 2,Option 3|open", await question.ExecuteScalarAsync());

        // An erasure takes the ballot, and its voter id, out of the system of record.
        using (var erase = await node.Admin.PostAsJsonAsync($"/v1/polls/{poll}/erasures", new { voterId = "ann" }))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        }

        await Eventually.WaitUntilAsync(() => BallotsAsync(data, poll).GetAwaiter().GetResult() == "bob:2", TestServer.Timeout);
    }

    [Fact]
    public async Task Text_answers_questions_upvotes_and_an_events_facts_never_stall_the_ledger()
    {
        await using var node = await TestServer.StartAsync(fixture.NodeSettings(ClusterFixture.NewClusterName(), "a"));
        var text = (string)(await node.Admin.CreatePollAsync(new { question = "One word?", kind = "text", moderation = true }))["id"]!;
        var qa = (string)(await node.Admin.CreatePollAsync(new { question = "Questions?", kind = "questions" }))["id"]!;
        using (var answer = await node.Client.PostAsJsonAsync($"/v1/polls/{text}/votes", new { text = "Great day", voterId = "ann" }))
        {
            Assert.Equal(HttpStatusCode.Created, answer.StatusCode);
        }

        using (var approve = await node.Admin.PostAsync($"/v1/polls/{text}/answers/{text}-2/approve", null))
        {
            Assert.Equal(HttpStatusCode.OK, approve.StatusCode);
        }

        using (var asked = await node.Client.PostAsJsonAsync($"/v1/polls/{qa}/votes", new { text = "Slides?", voterId = "ann" }))
        {
            Assert.Equal(HttpStatusCode.Created, asked.StatusCode);
        }

        using (var upvote = await node.Client.PostAsJsonAsync($"/v1/polls/{qa}/votes", new { upvote = qa + "-2", voterId = "bob" }))
        {
            Assert.Equal(HttpStatusCode.Created, upvote.StatusCode);
        }

        using var created = await node.Admin.PostAsJsonAsync("/v1/events", new { title = "Quiz", questions = new[] { new { question = "Q?", kind = "quiz", options = new[] { "A", "B" }, correct = new[] { 1 }, points = 100, timeLimitSeconds = 600 } } });
        var ev = (string)(await created.ReadJsonAsync())["id"]!;
        using (var join = await node.Client.PostAsJsonAsync($"/v1/events/{ev}/join", new { name = "Ann", voterId = "ann" }))
        {
            Assert.Equal(HttpStatusCode.OK, join.StatusCode);
        }

        foreach (var step in new[] { "start", "questions/1/show" })
        {
            using var control = await node.Admin.PostAsync($"/v1/events/{ev}/{step}", null);
            Assert.Equal(HttpStatusCode.OK, control.StatusCode);
        }

        using (var quiz = await node.Client.VoteAsync(ev + "q1", [1], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, quiz.StatusCode);
        }

        // A plain poll after all of them: its ballot reaches the ledger only if the projector went past every event before it.
        var poll = (string)(await node.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var vote = await node.Client.VoteAsync(poll, [2], "cy"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        await using var data = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString);
        await Eventually.WaitUntilAsync(() => BallotsAsync(data, poll).GetAwaiter().GetResult() == "cy:2", TestServer.Timeout);
    }

    [Fact]
    public async Task With_ack_after_ledger_every_answered_vote_is_already_in_postgresql_on_every_node()
    {
        var cluster = ClusterFixture.NewClusterName();
        var settings = (string node) => new Dictionary<string, string>(fixture.NodeSettings(cluster, node)) { ["Tally:Cluster:AckAfterLedger"] = "true" };
        await using var a = await TestServer.StartAsync(settings("a"));
        await using var b = await TestServer.StartAsync(settings("b"));
        await using var data = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString);
        var polls = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            polls.Add((string)(await a.Admin.CreatePollAsync(options: 2))["id"]!);
        }

        using (var ready = await b.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.Contains("AckAfterLedger a vote is answered only once the PostgreSQL ledger has committed it", (string)(await ready.ReadJsonAsync())["durability"]!, StringComparison.Ordinal);
        }

        // Each vote, through either node (the ledger's projector runs on one of them): the moment it is answered, its row is there.
        for (var i = 0; i < 24; i++)
        {
            var poll = polls[i % polls.Count];
            var node = i % 2 == 0 ? a : b;
            using (var vote = await node.Client.VoteAsync(poll, [1 + (i % 2)], "voter" + i, "key" + i))
            {
                Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            }

            await using var row = data.CreateCommand("SELECT count(*) FROM ballots WHERE poll_id = $1 AND voter_id = $2");
            row.Parameters.AddWithValue(poll);
            row.Parameters.AddWithValue("voter" + i);
            Assert.Equal(1L, (long)(await row.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task A_rating_poll_counts_values_on_every_node_and_the_ledger_keeps_its_scale()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(fixture.NodeSettings(cluster, "a"));
        await using var b = await TestServer.StartAsync(fixture.NodeSettings(cluster, "b"));
        var poll = (string)(await a.Admin.CreatePollAsync(new { question = "Rate", kind = "rating", scale = new { min = -1, max = 3 } }))["id"]!;
        var votes = new[] { (a, 3, "ann"), (b, -1, "bob"), (b, 2, "cy") };
        foreach (var (node, value, voter) in votes)
        {
            // b may not have read the poll's creation yet (404), or may be between owners (503): retried until served.
            await Eventually.WaitUntilAsync(
                async () =>
                {
                    using var vote = await node.Client.PostAsJsonAsync($"/v1/polls/{poll}/votes", new { value, voterId = voter });
                    return vote.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict; // 409: an earlier try counted (the ledger check below proves which)
                },
                TestServer.Timeout);
        }

        await Eventually.WaitUntilAsync(async () => (long?)(await b.Client.ResultsAsync(poll))["summary"]?["count"] == 3, TestServer.Timeout);
        var summary = (await b.Client.ResultsAsync(poll))["summary"]!;
        Assert.Equal(4, (long)summary["sum"]!);
        Assert.Equal(1.33, (double)summary["mean"]!);

        await using var data = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString);
        await Eventually.WaitUntilAsync(() => BallotsAsync(data, poll).GetAwaiter().GetResult() == "ann:5,bob:1,cy:4", TestServer.Timeout); // option n is value -1 + n - 1
        await using var scale = data.CreateCommand("SELECT kind || '|' || scale_min FROM polls WHERE id = $1");
        scale.Parameters.AddWithValue(poll);
        Assert.Equal("rating|-1", await scale.ExecuteScalarAsync());
    }

    [Fact]
    public async Task The_ledger_follows_a_polls_status_from_draft_to_paused_to_closed_by_its_limit()
    {
        await using var node = await TestServer.StartAsync(fixture.NodeSettings(ClusterFixture.NewClusterName(), "a"));
        var poll = (string)(await node.Admin.CreatePollAsync(new { question = "Go?", options = new[] { "A", "B" }, draft = true, maxBallots = 1 }))["id"]!;
        await using var data = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString);
        async Task<string?> StatusAsync()
        {
            await using var command = data.CreateCommand("SELECT status || '|' || seq || '|' || COALESCE(max_ballots::text, '-') FROM polls WHERE id = $1");
            command.Parameters.AddWithValue(poll);
            return (string?)await command.ExecuteScalarAsync();
        }

        await Eventually.WaitUntilAsync(async () => await StatusAsync() == "draft|1|1", TestServer.Timeout);
        foreach (var (verb, expected) in new[] { ("open", "open|2|1"), ("pause", "paused|3|1"), ("resume", "open|4|1") })
        {
            using var response = await node.Admin.PostAsync(new Uri($"/v1/polls/{poll}/{verb}", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Eventually.WaitUntilAsync(async () => await StatusAsync() == expected, TestServer.Timeout);
        }

        using (var vote = await node.Client.VoteAsync(poll, [2], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        await Eventually.WaitUntilAsync(async () => await StatusAsync() == "closed|6|1", TestServer.Timeout); // the one ballot it takes closes it
        await using var reason = data.CreateCommand("SELECT close_reason FROM polls WHERE id = $1");
        reason.Parameters.AddWithValue(poll);
        Assert.Equal("limit", await reason.ExecuteScalarAsync());
    }

    [Fact]
    public async Task With_postgres_down_for_10_s_votes_are_still_acknowledged_and_the_ledger_catches_up_exactly()
    {
        await using var postgres = new PostgresServer();
        await postgres.StartAsync();
        await using var node = await TestServer.StartAsync(ClusterFixture.NodeSettings(fixture.Nats.Url, postgres.ConnectionString, fixture.Redis.Configuration, ClusterFixture.NewClusterName(), "a"));
        var poll = (string)(await node.Admin.CreatePollAsync(options: 2))["id"]!;
        await using var data = NpgsqlDataSource.Create(postgres.ConnectionString);
        await Eventually.WaitUntilAsync(() => CountAsync(data, poll).GetAwaiter().GetResult() == 0, TestServer.Timeout); // the poll reached the ledger

        await postgres.KillAsync();
        var acked = 0;
        var outage = Task.Delay(TimeSpan.FromSeconds(10)); // the scenario's length, not a wait for a signal
        while (!outage.IsCompleted)
        {
            using var vote = await node.Client.VoteAsync(poll, [1 + (acked % 2)], "voter" + acked);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode); // PostgreSQL is not on the vote's path
            acked++;
            if (acked == 1)
            {
                using var ready = await node.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // degraded, still ready: acks do not need it
                await Eventually.WaitUntilAsync(() => Readiness.Check(node, "postgres") == "down", TestServer.Timeout);
            }

            await Task.WhenAny(outage, Task.Delay(20));
        }

        await postgres.StartAsync();
        await Eventually.WaitUntilAsync(() => CountAsync(data, poll).GetAwaiter().GetResult() == acked, TestServer.Timeout);
        Assert.Equal(acked, (long)(await node.Client.ResultsAsync(poll))["totalVotes"]!);
        await Eventually.WaitUntilAsync(() => Readiness.Check(node, "postgres") == "up", TestServer.Timeout);
    }

    private static async Task<string> BallotsAsync(NpgsqlDataSource data, string poll)
    {
        try
        {
            await using var command = data.CreateCommand("SELECT string_agg(voter_id || ':' || array_to_string(option_ids, ','), ',' ORDER BY voter_id) FROM ballots WHERE poll_id = $1");
            command.Parameters.AddWithValue(poll);
            return await command.ExecuteScalarAsync() as string ?? "";
        }
        catch (PostgresException)
        {
            return ""; // the tables are not there yet
        }
    }

    private static async Task<long> CountAsync(NpgsqlDataSource data, string poll) => await CountOrNullAsync(data, poll) ?? -1;

    /// <summary>Ballots of the poll in the ledger; -1 before the poll is there; null when PostgreSQL does not answer.</summary>
    private static async Task<long?> CountOrNullAsync(NpgsqlDataSource data, string poll)
    {
        try
        {
            await using var command = data.CreateCommand("SELECT CASE WHEN EXISTS (SELECT 1 FROM polls WHERE id = $1) THEN (SELECT count(*) FROM ballots WHERE poll_id = $1) ELSE -1 END");
            command.Parameters.AddWithValue(poll);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (PostgresException)
        {
            return -1; // the tables are not there yet
        }
        catch (NpgsqlException)
        {
            return null;
        }
    }
}
