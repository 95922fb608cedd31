using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Tally.Live;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Live;

public sealed class SseTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task A_watcher_gets_a_snapshot_then_deltas_and_ends_with_the_served_results()
    {
        var poll = (string)(await Server.Admin.CreatePollAsync(options: 3, dedupe: "none"))["id"]!;
        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events");

        Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-cache", sse.Response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal("no", sse.Response.Headers.GetValues("X-Accel-Buffering").Single());

        var first = await sse.NextAsync();
        Assert.Equal("snapshot", first.Name);
        Assert.Equal("1", first.Id);
        var tally = new LiveTally();
        tally.Apply(first);

        for (var i = 0; i < 30; i++)
        {
            using var vote = await Server.Client.VoteAsync(poll, [(i % 3) + 1], null);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        await ReadUntilAsync(sse, tally, 31);
        var results = await Server.Client.ResultsAsync(poll);
        Assert.Equal(ApiClient.Counts(results), tally.Counts);
        Assert.Equal((long)results["totalVotes"]!, tally.TotalVotes);
        Assert.Empty(tally.StaleDeltas);
    }

    [Fact]
    public async Task Resuming_with_last_event_id_gets_exactly_the_missed_changes()
    {
        var poll = (string)(await Server.Admin.CreatePollAsync(options: 4, dedupe: "none"))["id"]!;
        var tally = new LiveTally();
        await using (var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events"))
        {
            tally.Apply(await sse.NextAsync());
            await CastAsync(poll, 10);
            await ReadUntilAsync(sse, tally, 11);
        }

        await CastAsync(poll, 25); // while nobody watches

        await using (var resumed = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events", lastEventId: tally.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            var first = await resumed.NextAsync();
            Assert.Equal("delta", first.Name); // the history had it all: no snapshot needed
            tally.Apply(first);
            await ReadUntilAsync(resumed, tally, 36);
        }

        var results = await Server.Client.ResultsAsync(poll);
        Assert.Equal(ApiClient.Counts(results), tally.Counts);
        Assert.Empty(tally.StaleDeltas);
    }

    [Fact]
    public async Task Resuming_with_since_in_the_query_works_like_last_event_id()
    {
        var poll = (string)(await Server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
        await CastAsync(poll, 3);
        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events?since=1");
        var tally = new LiveTally { };
        tally.Apply("snapshot", (await Server.Client.ResultsAsync(poll)).DeepClone().AsObject().WithSnapshotShape(seq: 1));
        await ReadUntilAsync(sse, tally, 4);
        Assert.Equal(ApiClient.Counts(await Server.Client.ResultsAsync(poll)), tally.Counts);
    }

    [Fact]
    public async Task A_closed_poll_streams_its_final_state_then_closed()
    {
        var poll = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events");
        var tally = new LiveTally();
        tally.Apply(await sse.NextAsync());

        using (await Server.Client.VoteAsync(poll, [2], "v1"))
        using (await Server.Admin.PostAsync($"/v1/polls/{poll}/close", null))
        {
        }

        while (!tally.Closed)
        {
            tally.Apply(await sse.NextAsync());
        }

        Assert.Equal(1, tally.Counts[2]);
        Assert.Equal(3, tally.Seq);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Resuming_a_closed_poll_from_its_last_seq_gets_closed_again(bool lastEventIdHeader)
    {
        // The last delta and "closed" share the PollClosed seq: a watcher that dropped between the two
        // resumes from that seq and must still learn the poll closed.
        var poll = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        long last;
        await using (var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events"))
        {
            var tally = new LiveTally();
            tally.Apply(await sse.NextAsync());
            using (await Server.Client.VoteAsync(poll, [2], "v1"))
            using (await Server.Admin.PostAsync($"/v1/polls/{poll}/close", null))
            {
            }

            while (!tally.Closed)
            {
                tally.Apply(await sse.NextAsync());
            }

            last = tally.Seq;
        }

        var since = last.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var resumed = lastEventIdHeader
            ? await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events", lastEventId: since)
            : await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events?since={since}");

        var closed = await resumed.NextAsync();
        Assert.Equal("closed", closed.Name);
        Assert.Equal(since, closed.Id);
        Assert.Equal("closed", (string?)closed.Data["status"]);
        Assert.Equal(1, (long)closed.Data["totalVotes"]!);
    }

    [Fact]
    public async Task Unknown_polls_and_bad_resume_points_are_problems()
    {
        using var missing = await Server.Client.GetAsync("/v1/polls/nosuchpoll/events");
        await ApiClient.AssertProblemAsync(missing, HttpStatusCode.NotFound, "poll-not-found");

        var poll = (string)(await Server.Admin.CreatePollAsync())["id"]!;
        using var bad = await Server.Client.GetAsync($"/v1/polls/{poll}/events?since=abc");
        await ApiClient.AssertProblemAsync(bad, HttpStatusCode.BadRequest, "invalid-query");
    }

    [Fact]
    public async Task A_watcher_that_never_reads_does_not_hold_back_the_others()
    {
        var poll = (string)(await Server.Admin.CreatePollAsync(options: 3, dedupe: "none"))["id"]!;
        var hub = Server.Services.GetRequiredService<LiveHub>();
        var stuck = new NeverReads(hub.Options);
        Assert.True(hub.Subscribe(stuck, poll, null));
        using var stop = new CancellationTokenSource();
        var stuckRun = stuck.RunAsync(stop.Token);

        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{poll}/events");
        var tally = new LiveTally();
        tally.Apply(await sse.NextAsync());
        for (var i = 0; i < hub.Options.ConnectionQueueCapacity + 8; i++)
        {
            await CastAsync(poll, 1);
            await ReadUntilAsync(sse, tally, i + 2); // every change reaches the reading watcher
        }

        Assert.True(stuck.Overflows > 0, "the stuck watcher's queue overflowed and was collapsed, not grown");
        await stop.CancelAsync();
        var ended = await Assert.ThrowsAnyAsync<Exception>(() => stuckRun.WaitAsync(TestServer.Timeout));
        Assert.True(ended is OperationCanceledException or SlowConsumerException, ended.ToString()); // still stuck, or already ended as too slow
        hub.Unsubscribe(stuck, poll);
    }

    private async Task CastAsync(string poll, int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var vote = await Server.Client.VoteAsync(poll, [(i % 2) + 1], null);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }
    }

    private static async Task ReadUntilAsync(SseClient sse, LiveTally tally, long seq)
    {
        while (tally.Seq < seq)
        {
            tally.Apply(await sse.NextAsync());
        }
    }

    /// <summary>A watcher whose every write waits forever (until cancelled).</summary>
    private sealed class NeverReads(LiveOptions options) : LiveConnection(options)
    {
        protected override async ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken) =>
            await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

internal static class SnapshotShape
{
    /// <summary>Turns a results document into the snapshot shape at <paramref name="seq"/>, zero counts (what a client knew at seq 1).</summary>
    public static System.Text.Json.Nodes.JsonObject WithSnapshotShape(this System.Text.Json.Nodes.JsonObject results, long seq)
    {
        results["seq"] = seq;
        results["totalVotes"] = 0L;
        foreach (var option in results["options"]!.AsArray())
        {
            option!["votes"] = 0L;
        }

        return results;
    }
}

public sealed class SseHeartbeatTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Live:SseHeartbeat"] = "00:00:00.050" });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_quiet_stream_sends_heartbeat_comments()
    {
        var poll = (string)(await _server.Admin.CreatePollAsync())["id"]!;
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{poll}/events");
        using var response = await _server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TestServer.Timeout);

        var comments = 0;
        while (comments < 2)
        {
            var line = await reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException();
            if (line.StartsWith(':'))
            {
                comments++;
            }
        }
    }
}
