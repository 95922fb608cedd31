using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;
using Tally.Testing.Engines;

namespace Tally.Server.Tests.Cluster;

/// <summary>The server in cluster mode: two nodes (in this process, real Kestrel) on a real nats-server.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterServerTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_vote_on_node_a_reaches_a_watcher_on_node_b()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(fixture.NodeSettings(cluster, "a"));
        await using var b = await TestServer.StartAsync(fixture.NodeSettings(cluster, "b"));
        var poll = (string)(await a.Admin.CreatePollAsync(options: 2))["id"]!;

        await using var watcher = await SseClient.ConnectWhenServedAsync(b.Client, $"/v1/polls/{poll}/events");
        var snapshot = await watcher.NextAsync();
        Assert.Equal("snapshot", snapshot.Name);
        Assert.Equal(1, snapshot.Seq);

        using var vote = await a.Client.VoteAsync(poll, [2], "alice");
        Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        var delta = await NextChangeAsync(watcher, after: 1); // deltas that only carry the watcher count keep seq 1
        Assert.Equal("delta", delta.Name);
        Assert.Equal(2, delta.Seq);
        Assert.Equal(1, (long)delta.Data["totalVotes"]!);

        // The same voter through the other node: one vote per voter across the cluster.
        using var again = await b.Client.VoteAsync(poll, [1], "alice");
        await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "already-voted");
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1 }, ApiClient.Counts(await b.Client.ResultsAsync(poll)));

        // A poll no node has: every lookup (a burst of them at once, too) is a 404 from its partition's owner.
        var missing = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => b.Client.GetAsync(new Uri("/v1/polls/nosuchpoll/results", UriKind.Relative))));
        foreach (var response in missing)
        {
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound, "poll-not-found");
            response.Dispose();
        }
    }

    [Fact]
    public async Task A_ranking_polls_runoff_reaches_a_watcher_on_the_other_node_and_its_results()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(fixture.NodeSettings(cluster, "a"));
        await using var b = await TestServer.StartAsync(fixture.NodeSettings(cluster, "b"));
        var poll = (string)(await a.Admin.CreatePollAsync(new { question = "Order", kind = "ranking", options = new[] { "A", "B", "C" } }))["id"]!;
        await using var watcher = await SseClient.ConnectWhenServedAsync(b.Client, $"/v1/polls/{poll}/events");
        Assert.Equal("snapshot", (await watcher.NextAsync()).Name);

        // 2 × A>B, 2 × B>A, 1 × C>B: C goes, its ballot to B, who wins 3 to 2.
        long seq = 0;
        var voter = 0;
        foreach (var (ranking, count) in new[] { (new[] { 1, 2 }, 2), ([2, 1], 2), ([3, 2], 1) })
        {
            for (var i = 0; i < count; i++)
            {
                using var vote = await VoteUntilTakenAsync(a.Client, poll, "v" + voter++, ranking);
                seq = (long)(await vote.ReadJsonAsync())["seq"]!;
            }
        }

        SseEvent delta;
        do
        {
            delta = await watcher.NextAsync();
        }
        while (delta.Seq < seq);

        Assert.Equal(2, (int)delta.Data["ranking"]!["instantRunoff"]!["winner"]!);
        var results = await b.Client.ResultsAsync(poll); // the delta was at the last seq: so are the owner's results
        Assert.Equal(new Dictionary<int, long> { [1] = 10, [2] = 12, [3] = 3 }, ApiClient.Counts(results)); // A 2×3 + 2×2, B 2×2 + 2×3 + 2, C 3
        Assert.Equal(3, (int)results["ranking"]!["instantRunoff"]!["rounds"]![0]!["eliminated"]!);
    }

    [Fact]
    public async Task Either_node_exports_the_same_ballots_and_exporting_does_not_fence_the_owner()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(fixture.NodeSettings(cluster, "a"));
        await using var b = await TestServer.StartAsync(fixture.NodeSettings(cluster, "b"));
        var poll = (string)(await a.Admin.CreatePollAsync(options: 2))["id"]!;
        for (var i = 0; i < 5; i++)
        {
            using var vote = await VoteUntilTakenAsync(a.Client, poll, "v" + i, [1 + (i % 2)]);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var exports = new List<string>();
        foreach (var node in new[] { a, b }) // one of them owns the poll's partition, the other reads its log without taking it
        {
            string text = "";
            await Eventually.WaitUntilAsync(
                async () =>
                {
                    using var export = await node.Admin.GetAsync(new Uri($"/v1/polls/{poll}/export?format=csv&voters=raw", UriKind.Relative));
                    text = await export.Content.ReadAsStringAsync();
                    return export.StatusCode == HttpStatusCode.OK; // b may not serve the poll yet (404 / 503)
                },
                TestServer.Timeout);
            exports.Add(string.Join('\n', text.Split('\n').Select(row => string.Join(',', row.Split(',').Where((_, i) => i != 1))))); // without the times' column
        }

        Assert.Equal(exports[0], exports[1]);
        Assert.Equal(6, exports[0].Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the header and the 5 ballots
        using var after = await VoteUntilTakenAsync(a.Client, poll, "after", [2]);
        Assert.Equal(HttpStatusCode.Created, after.StatusCode); // the owner still writes its log
    }

    [Fact]
    public async Task Listing_polls_on_any_node_pages_through_every_partition_newest_first_each_poll_once()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(fixture.NodeSettings(cluster, "a"));
        await using var b = await TestServer.StartAsync(fixture.NodeSettings(cluster, "b"));
        var created = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            created.Add((string)(await (i % 2 == 0 ? a : b).Admin.CreatePollAsync(options: 2))["id"]!);
        }

        var listed = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var url = "/v1/polls?limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var page = (await b.Admin.GetFromJsonAsync<JsonObject>(url))!;
            listed.AddRange(page["items"]!.AsArray().Select(p => p!.AsObject()));
            cursor = (string?)page["nextCursor"];
            Assert.True(listed.Count <= created.Count, "nextCursor never ends");
        }
        while (cursor is not null);

        Assert.Equal(created.Order(), listed.Select(p => (string)p["id"]!).Order());
        var createdAt = listed.Select(p => DateTimeOffset.Parse((string)p["createdAt"]!, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(createdAt.OrderDescending(), createdAt);
        var newest = listed.Where((p, i) => createdAt[i] == createdAt[0]).Select(p => (string)p["id"]!).ToList();
        Assert.Contains(created[^1], newest); // polls made within the same millisecond are ordered by id among themselves

        // A cursor this cluster did not give out (garbage, or an embedded server's) is a 400, not a 500.
        foreach (var bad in new[] { "zzz", Convert.ToBase64String("p12"u8.ToArray()).TrimEnd('=') })
        {
            using var response = await a.Admin.GetAsync(new Uri("/v1/polls?cursor=" + bad, UriKind.Relative));
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-query");
        }
    }

    [Fact]
    public async Task The_rate_limits_are_shared_by_every_node_through_redis_in_keys_that_expire_and_hold_no_voter_id()
    {
        var cluster = ClusterFixture.NewClusterName();
        Dictionary<string, string> Limited(string node)
        {
            var settings = fixture.NodeSettings(cluster, node);
            settings["Tally:RateLimit:Ip:Rate"] = "0.01"; // a token per 100 s: nothing refills while the test runs
            settings["Tally:RateLimit:Ip:Burst"] = "4";
            settings["Tally:RateLimit:Voter:Rate"] = "0.01";
            settings["Tally:RateLimit:Voter:Burst"] = "2";
            return settings;
        }

        await using var a = await TestServer.StartAsync(Limited("a"), realLimits: true);
        await using var b = await TestServer.StartAsync(Limited("b"), realLimits: true);
        var poll = (string)(await a.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;

        // The voter's bucket: alice on a, then on b, is out on both.
        using (var first = await a.Client.VoteAsync(poll, [1], "alice"))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using (var second = await b.Client.VoteAsync(poll, [1], "alice"))
        {
            Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        }

        using (var third = await a.Client.VoteAsync(poll, [1], "alice"))
        {
            var problem = await ApiClient.AssertProblemAsync(third, (HttpStatusCode)429, "rate-limited");
            Assert.Contains("One voter may send 2 votes at once", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        // The address's bucket: 2 votes above and 1 + 1 more, then it is out on both nodes; a refused request took nothing.
        foreach (var node in new[] { a, b })
        {
            using var counted = await node.Client.VoteAsync(poll, [2], null);
            Assert.Equal(HttpStatusCode.Created, counted.StatusCode);
        }

        foreach (var node in new[] { a, b })
        {
            using var refused = await node.Client.VoteAsync(poll, [1], null);
            await ApiClient.AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited");
            Assert.InRange(int.Parse(refused.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture), 60, 100);
            Assert.StartsWith("\"ip\";r=0;t=", string.Join(", ", refused.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
        }

        Assert.Equal(4, (long)(await b.Client.ResultsAsync(poll))["totalVotes"]!);

        // In Redis: one key per bucket in use (the address, alice), each expiring when full again; no voter id in them.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { fixture.Redis.Configuration }, AbortOnConnectFail = false });
        var keys = redis.GetServers()[0].Keys(pattern: cluster + ":rl:*").Select(k => (string)k!).ToList();
        Assert.Equal(2, keys.Count);
        Assert.Single(keys, k => k.StartsWith(cluster + ":rl:ip:", StringComparison.Ordinal));
        Assert.Single(keys, k => k.StartsWith(cluster + ":rl:v:", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.Contains("alice", StringComparison.Ordinal));
        foreach (var key in keys)
        {
            var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(400));
        }
    }

    [Fact]
    public async Task A_watcher_that_reconnects_to_the_other_node_resumes_from_its_seq_without_a_gap()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(fixture.NodeSettings(cluster, "a"));
        await using var b = await TestServer.StartAsync(fixture.NodeSettings(cluster, "b"));
        var poll = (string)(await a.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        long seen;
        await using (var first = await SseClient.ConnectAsync(a.Client, $"/v1/polls/{poll}/events"))
        {
            seen = (await first.NextAsync()).Seq;
        }

        for (var i = 0; i < 5; i++)
        {
            using var vote = await b.Client.VoteAsync(poll, [1 + (i % 2)], null);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        await using var resumed = await SseClient.ConnectWhenServedAsync(b.Client, $"/v1/polls/{poll}/events", lastEventId: seen.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var total = 0L;
        while (total < 5)
        {
            var next = await resumed.NextAsync();
            Assert.True(next.Seq > seen, $"seq {next.Seq} after {seen}");
            seen = next.Seq;
            total = (long)next.Data["totalVotes"]!;
        }

        Assert.Equal(6, seen);
    }

    [Fact]
    public async Task Readiness_names_nats_and_ingest_answers_503_while_nats_is_down()
    {
        await using var nats = new NatsServer();
        await nats.StartAsync();
        await using var node = await TestServer.StartAsync(ClusterFixture.NodeSettings(nats.Url, fixture.Postgres.ConnectionString, fixture.Redis.Configuration, ClusterFixture.NewClusterName(), "a"));
        var poll = (string)(await node.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var ready = await node.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            var said = await ready.ReadJsonAsync();
            Assert.Equal("up", (string)said["checks"]!["nats"]!);
            // What a 2xx means here, from the server's own version: Debian's 2.9 has no fsync per message.
            Assert.Matches(@"^JetStream on nats-server \d+\.\d+\.\d+, 1 replica\(s\): an acknowledged vote is in the stream", (string)said["durability"]!);
            Assert.Contains("can lose the votes acknowledged in the last 2 minutes", (string)said["durability"]!, StringComparison.Ordinal);
        }

        using (var before = await node.Client.VoteAsync(poll, [1], "before"))
        {
            Assert.Equal(HttpStatusCode.Created, before.StatusCode);
        }

        await nats.KillAsync();
        await Eventually.WaitUntilAsync(() => Readiness.Status(node) == HttpStatusCode.ServiceUnavailable, TestServer.Timeout);
        using (var down = await node.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.Equal("down", (string)(await down.ReadJsonAsync())["checks"]!["nats"]!);
        }

        using (var refused = await node.Client.VoteAsync(poll, [2], "during"))
        {
            await ApiClient.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        await nats.StartAsync();
        await Eventually.WaitUntilAsync(() => Readiness.Status(node) == HttpStatusCode.OK, TestServer.Timeout);
        using (var after = await VoteUntilTakenAsync(node.Client, poll, "after"))
        {
            Assert.Equal(HttpStatusCode.Created, after.StatusCode);
        }

        // Acknowledged: "before" and "after"; the refused one was not taken. A node serves results from the
        // stream it follows, so they may trail the ack by a moment: wait for exactly these, bounded.
        await Eventually.WaitUntilAsync(
            async () => ApiClient.Counts(await node.Client.ResultsAsync(poll)) is { Count: 2 } counts && counts[1] == 2 && counts[2] == 0,
            TestServer.Timeout);
    }

    [Fact]
    public async Task Cluster_mode_without_a_nats_url_does_not_start_and_says_why()
    {
        var settings = fixture.NodeSettings(ClusterFixture.NewClusterName(), "a");
        settings.Remove("Tally:Nats:Url");
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(settings));
        Assert.Contains("Tally:Nats:Url", error.Message, StringComparison.Ordinal);

        settings["Tally:Nats:Url"] = "http://not-nats";
        error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(settings));
        Assert.Contains("Tally:Nats:Url", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tally:Postgres:ConnectionString", "Port=5432")]
    [InlineData("Tally:Redis:Configuration", ",,,")]
    public async Task Cluster_mode_without_postgres_or_redis_does_not_start_and_says_which(string key, string invalid)
    {
        var settings = fixture.NodeSettings(ClusterFixture.NewClusterName(), "a");
        settings.Remove(key);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(settings));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);

        settings[key] = invalid;
        error = await Assert.ThrowsAsync<OptionsValidationException>(() => TestServer.StartAsync(settings));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_mode_does_not_start_and_says_why()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Mode"] = "clustre" }));
        Assert.Contains("Tally:Mode", error.Message, StringComparison.Ordinal);
    }

    private static async Task<SseEvent> NextChangeAsync(SseClient watcher, long after)
    {
        while (true)
        {
            var next = await watcher.NextAsync();
            if (next.Seq > after)
            {
                return next;
            }
        }
    }

    /// <summary>Votes until the answer is not a 503 (the partition's lease may be moving after the outage), with one idempotency key.</summary>
    private static async Task<HttpResponseMessage> VoteUntilTakenAsync(HttpClient client, string poll, string voter, int[]? optionIds = null)
    {
        using var deadline = new CancellationTokenSource(TestServer.Timeout);
        while (true)
        {
            var response = await client.VoteAsync(poll, optionIds ?? [1], voter, "key-" + voter);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(50, deadline.Token);
        }
    }
}
