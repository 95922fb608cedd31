using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;
using Tally.Testing.Engines;

namespace Tally.Server.Tests.Cluster;

/// <summary>
/// Cluster failures with real server processes: a node killed with SIGKILL while votes flow through it.
/// Clients retry a 503 or a broken connection on another node with the same Idempotency-Key, as a client
/// behind a load balancer would; the final tally must equal the client-side record of acknowledged votes.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterFaultTests(ClusterFixture fixture) : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("tally-cluster-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_node_killed_under_load_loses_no_acknowledged_vote_and_counts_none_twice()
    {
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await ServerProcess.StartAsync(Path.Combine(_data, "a"), fixture.NodeSettings(cluster, "a"));
        await using var b = await ServerProcess.StartAsync(Path.Combine(_data, "b"), fixture.NodeSettings(cluster, "b"));
        var polls = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            polls.Add(await CreatePollAsync(b.Admin));
        }

        // Watchers of every poll on the node that survives: their updates come from the polls' owners (some on a,
        // killed mid-run), so after the kill they must come from the new owners, with nothing lost.
        var watchers = new List<(SseClient Client, LiveTally View)>();
        foreach (var poll in polls)
        {
            watchers.Add(await WatchAsync(b.Client, poll));
        }

        const int voters = 1200;
        var aDead = false;
        var next = 0;
        var acked = new ConcurrentDictionary<int, string>();
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var deadline = new CancellationTokenSource(TestServer.Timeout * 2);
        var workers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= voters)
            {
                var poll = polls[i % polls.Count];
                var viaA = i % 2 == 0;
                while (true)
                {
                    deadline.Token.ThrowIfCancellationRequested();
                    var client = viaA && !Volatile.Read(ref aDead) ? a.Client : b.Client;
                    try
                    {
                        using var response = await client.VoteAsync(poll, [1 + (i % 3 == 0 ? 1 : 0)], "voter" + i, "key" + i);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            acked[i] = (string)(await response.ReadJsonAsync())["voteId"]!;
                            break;
                        }

                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !deadline.IsCancellationRequested)
                    {
                        viaA = false; // that node is gone: the load balancer sends the retry elsewhere
                    }

                    await Task.Delay(20, deadline.Token);
                }

                if (acked.Count == voters / 4)
                {
                    halfway.TrySetResult();
                }
            }
        })).ToArray();

        await halfway.Task.WaitAsync(TestServer.Timeout);
        await a.KillAsync();
        Volatile.Write(ref aDead, true);
        await Task.WhenAll(workers).WaitAsync(TestServer.Timeout * 2);

        Assert.Equal(voters, acked.Count);
        for (var p = 0; p < polls.Count; p++)
        {
            var mine = Enumerable.Range(1, voters).Where(i => i % polls.Count == p).ToArray();
            var expected = new Dictionary<int, long>
            {
                [1] = mine.Count(i => i % 3 != 0),
                [2] = mine.Count(i => i % 3 == 0),
            };
            var poll = polls[p];
            await Eventually.WaitUntilAsync(() => ApiClient.Counts(b.Client.ResultsAsync(poll).GetAwaiter().GetResult()).Values.Sum() >= mine.Length, TestServer.Timeout);
            var results = await b.Client.ResultsAsync(poll);
            Assert.Equal(expected, ApiClient.Counts(results));
            Assert.Equal(mine.Length + 1, (long)results["seq"]!); // one event per voter, none twice, no gaps

            await AssertWatcherEndsAtAsync(watchers[p], mine.Length + 1, expected);
        }
    }

    /// <summary>
    /// Creates a two-option poll as a client would while the nodes are still handing partitions over at start: a 503
    /// (the partition is changing hands; nothing was taken) is retried after a moment, for at most the test timeout.
    /// </summary>
    internal static async Task<string> CreatePollAsync(HttpClient admin)
    {
        using var deadline = new CancellationTokenSource(TestServer.Timeout);
        while (true)
        {
            using var response = await admin.PostAsJsonAsync("/v1/polls", new { question = "Which?", options = new[] { "A", "B" } }, deadline.Token);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                return (string)(await response.ReadJsonAsync())["id"]!;
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>An SSE watcher of the poll, with its snapshot applied.</summary>
    private static async Task<(SseClient Client, LiveTally View)> WatchAsync(HttpClient client, string poll)
    {
        var watcher = await SseClient.ConnectAsync(client, $"/v1/polls/{poll}/events");
        var view = new LiveTally();
        var snapshot = await watcher.NextAsync();
        view.Apply(snapshot.Name, snapshot.Data);
        return (watcher, view);
    }

    /// <summary>Reads the watcher's messages up to <paramref name="seq"/> (each read bounded), then checks it shows the acknowledged votes, each applied once.</summary>
    private static async Task AssertWatcherEndsAtAsync((SseClient Client, LiveTally View) watcher, long seq, Dictionary<int, long> expected)
    {
        var (client, view) = watcher;
        while (view.Seq < seq)
        {
            var message = await client.NextAsync();
            view.Apply(message.Name, message.Data);
        }

        Assert.Equal(expected, view.Counts);
        Assert.Empty(view.StaleDeltas);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Nats_killed_and_restarted_under_load_loses_no_acknowledged_vote_and_counts_none_twice()
    {
        await using var nats = new NatsServer();
        await nats.StartAsync();
        var cluster = ClusterFixture.NewClusterName();
        await using var a = await TestServer.StartAsync(ClusterFixture.NodeSettings(nats.Url, fixture.Postgres.ConnectionString, fixture.Redis.Configuration, cluster, "a"));
        await using var b = await TestServer.StartAsync(ClusterFixture.NodeSettings(nats.Url, fixture.Postgres.ConnectionString, fixture.Redis.Configuration, cluster, "b"));
        var polls = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            polls.Add(await CreatePollAsync(a.Admin));
        }

        // A watcher of every poll on each node: core NATS drops what a node misses while NATS is down, so a node
        // fetches its followed polls again when it reconnects; the watchers must end at the exact tallies.
        var watchers = new List<(SseClient Client, LiveTally View)>[] { [], [] };
        foreach (var poll in polls)
        {
            watchers[0].Add(await WatchAsync(a.Client, poll));
            watchers[1].Add(await WatchAsync(b.Client, poll));
        }

        // Votes through both nodes; a 503 is retried with the same key, as a client would. Once a quarter is
        // acknowledged (the rest in flight), nats-server is killed and started again on its data.
        const int voters = 600;
        var next = 0;
        var acked = new ConcurrentDictionary<int, string>();
        var quarter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var deadline = new CancellationTokenSource(TestServer.Timeout * 2);
        var workers = Enumerable.Range(0, 12).Select(w => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= voters)
            {
                var client = i % 2 == 0 ? a.Client : b.Client;
                while (true)
                {
                    using var response = await client.VoteAsync(polls[i % polls.Count], [1 + (i % 3 == 0 ? 1 : 0)], "voter" + i, "key" + i);
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        acked[i] = (string)(await response.ReadJsonAsync())["voteId"]!;
                        break;
                    }

                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    await Task.Delay(20, deadline.Token);
                }

                if (acked.Count == voters / 4)
                {
                    quarter.TrySetResult();
                }
            }
        })).ToArray();

        await quarter.Task.WaitAsync(TestServer.Timeout);
        await nats.KillAsync();
        await nats.StartAsync();
        await Task.WhenAll(workers).WaitAsync(TestServer.Timeout * 2);

        Assert.Equal(voters, acked.Count);
        for (var p = 0; p < polls.Count; p++)
        {
            var mine = Enumerable.Range(1, voters).Where(i => i % polls.Count == p).ToArray();
            var expected = new Dictionary<int, long> { [1] = mine.Count(i => i % 3 != 0), [2] = mine.Count(i => i % 3 == 0) };
            var poll = polls[p];
            foreach (var node in new[] { a, b })
            {
                await Eventually.WaitUntilAsync(() => ApiClient.Counts(node.Client.ResultsAsync(poll).GetAwaiter().GetResult()).Values.Sum() >= mine.Length, TestServer.Timeout);
                var results = await node.Client.ResultsAsync(poll);
                Assert.Equal(expected, ApiClient.Counts(results));
                Assert.Equal(mine.Length + 1, (long)results["seq"]!);
            }

            await AssertWatcherEndsAtAsync(watchers[0][p], mine.Length + 1, expected);
            await AssertWatcherEndsAtAsync(watchers[1][p], mine.Length + 1, expected);
        }
    }
}
