using System.Net;
using System.Net.Http.Json;
using StackExchange.Redis;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;
using Tally.Testing.Engines;

namespace Tally.Server.Tests.Cluster;

/// <summary>The results read models in Redis: fed from the stream, rebuilt when Redis comes back empty, never on a vote's path.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RedisReadModelTests(ClusterFixture fixture)
{
    [Fact]
    public async Task Redis_restarted_empty_gets_every_poll_back_with_the_exact_tally_and_votes_are_acked_throughout()
    {
        await using var redisServer = new RedisServer();
        await redisServer.StartAsync();
        var cluster = ClusterFixture.NewClusterName();
        await using var node = await TestServer.StartAsync(ClusterFixture.NodeSettings(fixture.Nats.Url, fixture.Postgres.ConnectionString, redisServer.Configuration, cluster, "a"));
        var polls = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            polls.Add((string)(await node.Admin.CreatePollAsync(options: 2))["id"]!);
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { redisServer.Configuration }, AbortOnConnectFail = false });
        var acked = new long[polls.Count, 2];
        var voter = 0;
        async Task VoteAsync(int count)
        {
            for (var k = 0; k < count; k++, voter++)
            {
                var p = voter % polls.Count;
                var option = voter % 2;
                using var vote = await node.Client.VoteAsync(polls[p], [option + 1], "voter" + voter);
                Assert.Equal(HttpStatusCode.Created, vote.StatusCode); // Redis is not on the vote's path
                acked[p, option]++;
            }
        }

        await VoteAsync(30);
        await Eventually.WaitUntilAsync(() => Matches(redis, cluster, polls, acked), TestServer.Timeout);

        await redisServer.KillAsync();
        await VoteAsync(30); // acknowledged while Redis is away
        await Eventually.WaitUntilAsync(() => Readiness.Check(node, "redis") == "down", TestServer.Timeout);
        await redisServer.StartAsync(); // empty: no persistence
        await VoteAsync(30);

        await Eventually.WaitUntilAsync(() => Matches(redis, cluster, polls, acked), TestServer.Timeout);
        for (var p = 0; p < polls.Count; p++)
        {
            var ranking = await redis.GetDatabase().SortedSetRangeByRankWithScoresAsync($"{cluster}:ranking:{polls[p]}", order: Order.Descending);
            Assert.Equal(acked[p, 0] + acked[p, 1], ranking.Sum(e => (long)e.Score));
        }
    }

    [Fact]
    public async Task An_events_leaderboard_is_a_redis_sorted_set_rebuilt_exactly_when_redis_comes_back_empty()
    {
        await using var redisServer = new RedisServer();
        await redisServer.StartAsync();
        var cluster = ClusterFixture.NewClusterName();
        await using var node = await TestServer.StartAsync(ClusterFixture.NodeSettings(fixture.Nats.Url, fixture.Postgres.ConnectionString, redisServer.Configuration, cluster, "a"));
        using var created = await node.Admin.PostAsJsonAsync("/v1/events", new
        {
            title = "Cluster quiz",
            questions = Enumerable.Range(1, 2).Select(q => new { question = "Q" + q, kind = "quiz", options = new[] { "A", "B", "C" }, correct = new[] { q }, timeLimitSeconds = 600 }),
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)(await created.ReadJsonAsync())["id"]!;
        for (var p = 0; p < 20; p++)
        {
            using var joined = await node.Client.PostAsJsonAsync($"/v1/events/{id}/join", new { name = "P" + p, voterId = "p" + p });
            Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { redisServer.Configuration }, AbortOnConnectFail = false });
        async Task AnswerAsync(int question)
        {
            (await node.Admin.PostAsync($"/v1/events/{id}/questions/{question}/show", null)).Dispose();
            for (var p = 0; p < 20; p++)
            {
                using var vote = await node.Client.VoteAsync($"{id}q{question}", [1 + (p % 3)], "p" + p);
                Assert.Equal(HttpStatusCode.Created, vote.StatusCode); // Redis is not on the answer's path
            }
        }

        (await node.Admin.PostAsync($"/v1/events/{id}/start", null)).Dispose();
        await AnswerAsync(1);
        await Eventually.WaitUntilAsync(() => SameBoardAsync(node, redis, cluster, id), TestServer.Timeout);

        await redisServer.KillAsync();
        await AnswerAsync(2); // scored while Redis is away
        await redisServer.StartAsync(); // empty: no persistence

        await Eventually.WaitUntilAsync(() => SameBoardAsync(node, redis, cluster, id), TestServer.Timeout);
    }

    /// <summary>Redis's sorted set ranks every participant as the API's leaderboard does, with the same scores.</summary>
    private static async Task<bool> SameBoardAsync(TestServer node, IConnectionMultiplexer redis, string cluster, string eventId)
    {
        try
        {
            var api = (await node.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/v1/events/{eventId}/leaderboard?limit=100"))!["items"]!.AsArray()
                .Select(e => $"{(string)e!["name"]!}={(long)e["score"]!}").ToList();
            var db = redis.GetDatabase();
            var ranked = await db.SortedSetRangeByRankAsync($"{cluster}:leaderboard:{eventId}", 0, -1, Order.Descending);
            var standings = await db.HashGetAsync($"{cluster}:standing:{eventId}", ranked);
            var fromRedis = standings.Select(v => v.IsNull ? "?" : string.Join('=', ((string)v!).Split('\t')[..2])).ToList();
            return api.Count == 20 && api.SequenceEqual(fromRedis);
        }
        catch (RedisException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Presence_in_redis_counts_every_nodes_watchers_and_a_stopped_node_drops_out()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(fixture.NodeSettings(cluster, "a"));
        await using var b = await TestServer.StartAsync(fixture.NodeSettings(cluster, "b"));
        var poll = (string)(await a.Admin.CreatePollAsync(options: 2))["id"]!;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(fixture.Redis.Configuration);

        await using (var onA1 = await SseClient.ConnectAsync(a.Client, $"/v1/polls/{poll}/events"))
        await using (var onA2 = await SseClient.ConnectAsync(a.Client, $"/v1/polls/{poll}/events"))
        {
            await using var onB = await SseClient.ConnectWhenServedAsync(b.Client, $"/v1/polls/{poll}/events");
            await Task.WhenAll(onA1.NextAsync(), onA2.NextAsync(), onB.NextAsync()); // subscribed: each has its snapshot
            await Eventually.WaitUntilAsync(() => Watchers(redis, cluster, poll) == 3, TestServer.Timeout);

            // Live messages on every node carry the cluster's total, not the node's own count.
            await NextWithWatchersAsync(onB, 3);
            await NextWithWatchersAsync(onA1, 3);
        }

        await Eventually.WaitUntilAsync(() => Watchers(redis, cluster, poll) == 0, TestServer.Timeout);
        await using var again = await SseClient.ConnectWhenServedAsync(b.Client, $"/v1/polls/{poll}/events");
        await NextWithWatchersAsync(again, 1); // a's watchers left: b counts only its own (once it has read that)
        await Eventually.WaitUntilAsync(() => Watchers(redis, cluster, poll) == 1, TestServer.Timeout);

        await b.DisposeAsync(); // a clean stop takes the node's presence with it at once
        Assert.False(await redis.GetDatabase().KeyExistsAsync($"{cluster}:presence:b"));
        Assert.Equal(0, Watchers(redis, cluster, poll));
    }

    /// <summary>Reads the watcher's messages until one carries <paramref name="watchers"/> (each read bounded by the client's timeout).</summary>
    private static async Task NextWithWatchersAsync(SseClient watcher, long watchers)
    {
        while (true)
        {
            var message = await watcher.NextAsync();
            if (message.Data["watchers"] is { } count && (long)count == watchers)
            {
                return;
            }
        }
    }

    /// <summary>A poll's watchers across the cluster: its field summed over the nodes' presence hashes.</summary>
    private static long Watchers(IConnectionMultiplexer redis, string cluster, string poll)
    {
        var db = redis.GetDatabase();
        return new[] { "a", "b" }.Sum(node => (long?)db.HashGet($"{cluster}:presence:{node}", poll) ?? 0);
    }

    /// <summary>Redis holds, for every poll, the client-side record of acknowledged votes (and nothing else).</summary>
    private static bool Matches(IConnectionMultiplexer redis, string cluster, List<string> polls, long[,] acked)
    {
        try
        {
            var db = redis.GetDatabase();
            for (var p = 0; p < polls.Count; p++)
            {
                var hash = db.HashGetAll($"{cluster}:results:{polls[p]}").ToDictionary(e => (string)e.Name!, e => (string?)e.Value);
                if (!hash.TryGetValue("o1", out var o1) || !hash.TryGetValue("o2", out var o2)
                    || o1 != acked[p, 0].ToString(System.Globalization.CultureInfo.InvariantCulture)
                    || o2 != acked[p, 1].ToString(System.Globalization.CultureInfo.InvariantCulture)
                    || hash["totalVotes"] != (acked[p, 0] + acked[p, 1]).ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    return false;
                }
            }

            return true;
        }
        catch (RedisException)
        {
            return false;
        }
    }
}
