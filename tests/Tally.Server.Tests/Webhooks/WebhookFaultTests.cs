using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Cluster;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Webhooks;

/// <summary>Webhooks through process kills, in embedded and cluster mode, and the live-event types.</summary>
[Collection(ClusterCollection.Name)]
public sealed class WebhookFaultTests(ClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;
    private readonly string _data = Directory.CreateTempSubdirectory("tally-webhooks-").FullName;

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
    public async Task Every_acknowledged_vote_reaches_the_receiver_through_a_sigkill_of_the_server()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var data = Path.Combine(_data, "embedded");
        var acked = new ConcurrentDictionary<string, string>(); // voteId -> poll
        string poll;
        string secret;
        await using (var first = await ServerProcess.StartAsync(data, WebhookTests.Fast))
        {
            (_, secret) = await WebhookTests.CreateAsync(first.Admin, receiver.Url, ["vote.counted"], voters: "raw");
            poll = (string)(await first.Admin.CreatePollAsync())["id"]!;
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var next = 0;
            var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) <= 2000 && !killed.Task.IsCompleted)
                {
                    try
                    {
                        using var vote = await first.Client.VoteAsync(poll, [1 + (i % 2)], "voter" + i);
                        if (vote.StatusCode == HttpStatusCode.Created)
                        {
                            acked[(string)(await vote.ReadJsonAsync())["voteId"]!] = poll;
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
                    {
                        return; // the server is gone: an unanswered vote may or may not be in
                    }
                }
            })).ToArray();

            // Kill it while the receiver is behind (deliveries in flight, cursor saved a moment ago).
            await receiver.WaitForAsync(r => r.Taken.Count >= 100, Timeout, "100 deliveries");
            await first.KillAsync();
            killed.SetResult();
            await Task.WhenAll(workers).WaitAsync(Timeout);
        }

        Assert.True(acked.Count >= 100);
        await using var second = await ServerProcess.StartAsync(data, WebhookTests.Fast);
        await receiver.WaitForAsync(r => acked.Keys.All(new HashSet<string>(r.Taken.Select(d => (string)d.Data["voteId"]!)).Contains), Timeout * 2, $"all {acked.Count} acknowledged votes");

        var taken = receiver.Taken;
        Assert.All(taken, d => WebhookTests.AssertSigned(d, secret));
        // At least once, never out of order: the first time each message arrives, seqs only grow; a message sent again is the same bytes.
        var firstSeen = taken.DistinctBy(d => d.Id).Select(d => (long)d.Data["seq"]!).ToArray();
        Assert.Equal(firstSeen.Order(), firstSeen);
        foreach (var again in taken.GroupBy(d => d.Id).Where(g => g.Count() > 1))
        {
            Assert.Single(again.Select(d => d.Text).Distinct());
        }
    }

    [Fact]
    public async Task A_live_event_sends_started_shown_revealed_and_ended()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(WebhookTests.Fast);
        await WebhookTests.CreateAsync(server.Admin, receiver.Url, ["event.started", "question.shown", "question.revealed", "event.ended"]);
        using var created = await server.Admin.PostAsJsonAsync("/v1/events", new
        {
            title = "All hands",
            questions = new[] { new { question = "Lunch?", kind = "single", options = new[] { "Pizza", "Salad" } }, new { question = "Dinner?", kind = "single", options = new[] { "Soup", "Rice" } } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)(await created.ReadJsonAsync())["id"]!;
        foreach (var step in new[] { "start", "questions/1/show", "reveal", "questions/2/show", "end" })
        {
            using var response = await server.Admin.PostAsync($"/v1/events/{id}/{step}", null);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{step}: {await response.Content.ReadAsStringAsync()}");
        }

        await receiver.WaitForAsync(r => r.Taken.Count >= 5, Timeout, "five event messages");
        Assert.Equal(["event.started", "question.shown", "question.revealed", "question.shown", "event.ended"], receiver.Taken.Select(d => d.Type));
        Assert.All(receiver.Taken, d => Assert.Equal(id, (string)d.Data["eventId"]!));
        Assert.Equal([(1, id + "q1"), (1, id + "q1"), (2, id + "q2")], receiver.Taken.Skip(1).Take(3).Select(d => ((int)d.Data["question"]!, (string)d.Data["questionPollId"]!)));
    }

    [Fact]
    public async Task In_a_cluster_every_acknowledged_vote_reaches_the_receiver_through_a_sigkill_of_a_node()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var cluster = ClusterFixture.NewClusterName();
        var settings = (string node) => new Dictionary<string, string>(fixture.NodeSettings(cluster, node).Concat(WebhookTests.Fast));
        await using var a = await ServerProcess.StartAsync(Path.Combine(_data, "a"), settings("a"));
        await using var b = await ServerProcess.StartAsync(Path.Combine(_data, "b"), settings("b"));
        var (_, secret) = await Retry(() => WebhookTests.CreateAsync(b.Admin, receiver.Url, ["vote.counted"]));
        var polls = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            polls.Add(await Retry(async () => (string)(await b.Admin.CreatePollAsync())["id"]!));
        }

        var acked = new ConcurrentDictionary<string, bool>();
        var aDead = false;
        var next = 0;
        using var deadline = new CancellationTokenSource(Timeout * 2);
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= 600)
            {
                var viaA = i % 2 == 0;
                while (true)
                {
                    deadline.Token.ThrowIfCancellationRequested();
                    var client = viaA && !Volatile.Read(ref aDead) ? a.Client : b.Client;
                    try
                    {
                        using var vote = await client.VoteAsync(polls[i % polls.Count], [1], "voter" + i, "key" + i);
                        if (vote.StatusCode == HttpStatusCode.Created)
                        {
                            acked[(string)(await vote.ReadJsonAsync())["voteId"]!] = true;
                            break;
                        }

                        Assert.Equal(HttpStatusCode.ServiceUnavailable, vote.StatusCode);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !deadline.IsCancellationRequested)
                    {
                        viaA = false;
                    }

                    await Task.Delay(20, deadline.Token);
                }

                if (acked.Count == 150)
                {
                    halfway.TrySetResult();
                }
            }
        })).ToArray();

        await halfway.Task.WaitAsync(Timeout);
        await a.KillAsync();
        Volatile.Write(ref aDead, true);
        await Task.WhenAll(workers).WaitAsync(Timeout * 2);

        Assert.Equal(600, acked.Count);
        await receiver.WaitForAsync(r => acked.Keys.All(new HashSet<string>(r.Taken.Select(d => (string)d.Data["voteId"]!)).Contains), Timeout * 2, "all 600 acknowledged votes");
        Assert.All(receiver.Taken, d => WebhookTests.AssertSigned(d, secret));
        foreach (var perPoll in receiver.Taken.DistinctBy(d => d.Id).GroupBy(d => (string)d.Data["pollId"]!))
        {
            var seqs = perPoll.Select(d => (long)d.Data["seq"]!).ToArray();
            Assert.Equal(seqs.Order(), seqs); // each poll's events in seq order, whichever node delivered them
        }
    }

    /// <summary>A cluster answers 503 until its partitions have owners: try again, bounded.</summary>
    private static async Task<T> Retry<T>(Func<Task<T>> call)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (ex is Xunit.Sdk.XunitException or HttpRequestException && !deadline.IsCancellationRequested)
            {
                await Task.Delay(100, deadline.Token);
            }
        }
    }
}
