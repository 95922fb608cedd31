using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tally.Server.Tests.Infrastructure;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests.Live;

/// <summary>
/// gRPC <c>tally.v1.Live</c> against the real server's gRPC port, with a client generated from
/// <c>proto/tally/v1/live.proto</c> (Grpc.Net.Client, cleartext HTTP/2 with prior knowledge).
/// </summary>
public sealed class GrpcTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private TestServer Server => fixture.Server;

    private LiveClient Client => new(_channel);

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task Watch_starts_with_a_snapshot_of_every_option_with_its_text()
    {
        var id = await CreatePollAsync(options: 3);
        using (var vote = await Server.Client.VoteAsync(id, [2], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using var watcher = new GrpcWatcher(Client, id);
        var snapshot = await watcher.NextAsync();

        Assert.NotNull(snapshot);
        Assert.True(snapshot.Snapshot);
        Assert.False(snapshot.Closed);
        Assert.Equal(id, snapshot.PollId);
        Assert.Equal(2, snapshot.Seq);
        Assert.Equal(1, snapshot.TotalVotes);
        Assert.Equal(PollStatus.Open, snapshot.Status);
        Assert.Equal("Which one?", snapshot.Question);
        Assert.Equal([(1, "Option 1"), (2, "Option 2"), (3, "Option 3")], snapshot.Options.Select(o => (o.Id, o.Text)));
        Assert.Equal([(1, 0L), (2, 1L), (3, 0L)], snapshot.Counts.Select(c => (c.Id, c.Votes)));
        Assert.True(snapshot.HasWatchers);
        Assert.Equal(1, snapshot.Watchers);
    }

    [Fact]
    public async Task Votes_over_HTTP_and_over_gRPC_arrive_as_deltas_and_the_watcher_ends_equal_to_the_results()
    {
        var id = await CreatePollAsync(options: 4, dedupe: "none");
        using var watcher = new GrpcWatcher(Client, id);
        Assert.True((await watcher.NextAsync())!.Snapshot);

        long lastSeq = 0;
        for (var i = 0; i < 12; i++)
        {
            var option = (i % 4) + 1;
            if (i % 2 == 0)
            {
                using var response = await Server.Client.VoteAsync(id, [option], null);
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                lastSeq = (long)(await response.ReadJsonAsync())["seq"]!;
            }
            else
            {
                var reply = await Client.VoteAsync(new VoteRequest { PollId = id, OptionIds = { option } }, deadline: Deadline());
                Assert.Equal(VoteStatus.Counted, reply.Status);
                Assert.False(string.IsNullOrEmpty(reply.VoteId));
                lastSeq = reply.Seq;
            }

            if (i % 3 == 0)
            {
                await watcher.ReadUntilSeqAsync(lastSeq); // some votes land alone, some are conflated
            }
        }

        await watcher.ReadUntilSeqAsync(lastSeq);

        var deltas = watcher.Received.Skip(1).ToList();
        Assert.NotEmpty(deltas);
        Assert.All(deltas, d => Assert.False(d.Snapshot));
        Assert.All(deltas, d => Assert.Empty(d.Options));
        Assert.Contains(deltas, d => d.Counts.Count is > 0 and < 4); // a delta lists only what changed
        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal(ApiClient.Counts(results), watcher.Counts);
        Assert.Equal((long)results["seq"]!, watcher.Seq);
        Assert.Equal((long)results["totalVotes"]!, watcher.TotalVotes);
        Assert.Equal(12, watcher.TotalVotes);
    }

    [Fact]
    public async Task Resuming_with_since_seq_gets_exactly_the_missed_changes()
    {
        var id = await CreatePollAsync(options: 3, dedupe: "none");
        long since;
        using (var first = new GrpcWatcher(Client, id))
        {
            await first.NextAsync();
            var seq = await VoteOverGrpcAsync(id, 1);
            seq = Math.Max(seq, await VoteOverGrpcAsync(id, 2));
            await first.ReadUntilSeqAsync(seq);
            since = first.Seq;
        } // the call is cancelled: the watcher is gone

        long last = 0;
        foreach (var option in new[] { 3, 3, 1 })
        {
            using var response = await Server.Client.VoteAsync(id, [option], null);
            last = (long)(await response.ReadJsonAsync())["seq"]!;
        }

        using var resumed = new GrpcWatcher(Client, id, sinceSeq: since);
        await resumed.ReadUntilSeqAsync(last);

        // Deltas from the history, not a snapshot, and none of them repeats a change at or before `since`.
        Assert.All(resumed.Received, u => Assert.False(u.Snapshot));
        Assert.All(resumed.Received.Where(u => u.Counts.Count > 0), u => Assert.True(u.Seq > since, $"seq {u.Seq} was already applied (since {since})"));
        var counts = new Dictionary<int, long> { [1] = 1, [2] = 1, [3] = 0 }; // what the first watcher held at `since`
        foreach (var update in resumed.Received)
        {
            foreach (var count in update.Counts)
            {
                counts[count.Id] = count.Votes;
            }
        }

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal(ApiClient.Counts(results), counts);
        Assert.Equal(new Dictionary<int, long> { [1] = 2, [2] = 1, [3] = 2 }, counts);
        Assert.Equal(5, resumed.TotalVotes);
    }

    [Fact]
    public async Task Resuming_from_the_current_seq_waits_for_the_next_change()
    {
        var id = await CreatePollAsync(options: 2, dedupe: "none");
        var seq = await VoteOverGrpcAsync(id, 1);
        using (var published = new GrpcWatcher(Client, id))
        {
            await published.ReadUntilSeqAsync(seq); // the vote has reached watchers: `seq` is a seq of the stream
        }

        using var resumed = new GrpcWatcher(Client, id, sinceSeq: seq);
        var next = await VoteOverGrpcAsync(id, 2);
        await resumed.ReadUntilSeqAsync(next);

        Assert.All(resumed.Received, u => Assert.False(u.Snapshot));
        Assert.Equal(new Dictionary<int, long> { [2] = 1 }, resumed.Counts); // only what changed after `seq`
    }

    [Fact]
    public async Task Resuming_from_a_seq_ahead_of_the_poll_gets_a_snapshot()
    {
        var id = await CreatePollAsync(options: 2);

        using var watcher = new GrpcWatcher(Client, id, sinceSeq: 1_000);
        var first = await watcher.NextAsync();

        Assert.True(first!.Snapshot);
        Assert.Equal(1, first.Seq);
    }

    [Fact]
    public async Task Watching_an_unknown_poll_is_NotFound_before_any_update()
    {
        using var watcher = new GrpcWatcher(Client, "no-such-poll");

        var error = await Assert.ThrowsAsync<RpcException>(watcher.NextAsync);

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
        Assert.Contains("no-such-poll", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("urn:tally:problem:poll-not-found", error.Trailers.GetValue("tally-problem-type"));
        Assert.Empty(watcher.Received);
    }

    [Fact]
    public async Task Watching_without_a_poll_id_or_from_a_negative_seq_is_InvalidArgument()
    {
        var id = await CreatePollAsync(options: 2);
        using var noPoll = new GrpcWatcher(Client, "");
        using var negative = new GrpcWatcher(Client, id, sinceSeq: -1);

        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(noPoll.NextAsync)).StatusCode);
        var error = await Assert.ThrowsAsync<RpcException>(negative.NextAsync);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("since_seq", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Closing_the_poll_ends_the_stream_after_a_closed_update()
    {
        var id = await CreatePollAsync(options: 2);
        using var watcher = new GrpcWatcher(Client, id);
        await watcher.NextAsync();
        await VoteOverGrpcAsync(id, 2, voterId: "v1");

        using (var close = await Server.Admin.PostAsync($"/v1/polls/{id}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        while (await watcher.NextAsync() is not null)
        {
        }

        var closed = watcher.Received[^1];
        Assert.True(closed.Closed);
        Assert.False(closed.Snapshot);
        Assert.Equal(PollStatus.Closed, closed.Status);
        Assert.Equal([(1, 0L), (2, 1L)], closed.Counts.Select(c => (c.Id, c.Votes))); // the final results
        Assert.Equal(StatusCode.OK, watcher.CallStatus.StatusCode);
        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal((long)results["seq"]!, closed.Seq);
        Assert.Equal(ApiClient.Counts(results), watcher.Counts);
    }

    [Fact]
    public async Task Watching_a_closed_poll_gets_its_snapshot_and_the_closed_update_then_the_end()
    {
        var id = await CreatePollAsync(options: 2);
        await VoteOverGrpcAsync(id, 1, voterId: "v1");
        using (var close = await Server.Admin.PostAsync($"/v1/polls/{id}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        var closedAt = (long)(await Server.Client.ResultsAsync(id))["seq"]!;

        // The snapshot is of the results last published: the close may still be on its way as a delta.
        using var watcher = new GrpcWatcher(Client, id);
        while (await watcher.NextAsync() is not null)
        {
        }

        Assert.True(watcher.Received[0].Snapshot);
        var closed = watcher.Received[^1];
        Assert.True(closed.Closed);
        Assert.Equal(PollStatus.Closed, closed.Status);
        Assert.Equal(closedAt, closed.Seq);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 0 }, watcher.Counts);
        Assert.Equal(StatusCode.OK, watcher.CallStatus.StatusCode);

        // Once published, a new watcher gets the closed snapshot and the closed update at once.
        using var late = new GrpcWatcher(Client, id);
        var snapshot = await late.NextAsync();
        var end = await late.NextAsync();
        Assert.True(snapshot!.Snapshot);
        Assert.Equal(PollStatus.Closed, snapshot.Status);
        Assert.True(end!.Closed);
        Assert.Null(await late.NextAsync());
    }

    [Fact]
    public async Task A_vote_is_counted_then_changed_and_a_retry_with_its_key_returns_the_first_answer()
    {
        var id = await CreatePollAsync(options: 3, allowChange: true);

        var counted = await Client.VoteAsync(new VoteRequest { PollId = id, OptionIds = { 1 }, VoterId = "carol", IdempotencyKey = "k-1" }, deadline: Deadline());
        var retried = await Client.VoteAsync(new VoteRequest { PollId = id, OptionIds = { 1 }, VoterId = "carol", IdempotencyKey = "k-1" }, deadline: Deadline());
        var changed = await Client.VoteAsync(new VoteRequest { PollId = id, OptionIds = { 3 }, VoterId = "carol" }, deadline: Deadline());

        Assert.Equal(VoteStatus.Counted, counted.Status);
        Assert.Equal(2, counted.Seq);
        Assert.Equal(counted, retried);
        Assert.Equal(VoteStatus.Changed, changed.Status);
        Assert.Equal(3, changed.Seq);
        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 0, [3] = 1 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task Refused_votes_map_to_status_codes_with_the_problem_type()
    {
        var id = await CreatePollAsync(options: 2);
        await VoteOverGrpcAsync(id, 1, voterId: "dave", key: "key-d");
        var closedPoll = await CreatePollAsync(options: 2);
        using (var close = await Server.Admin.PostAsync($"/v1/polls/{closedPoll}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        await AssertRefusedAsync(new VoteRequest { PollId = "no-such-poll", OptionIds = { 1 }, VoterId = "x" }, StatusCode.NotFound, "poll-not-found");
        await AssertRefusedAsync(new VoteRequest { OptionIds = { 1 }, VoterId = "x" }, StatusCode.InvalidArgument, "validation");
        await AssertRefusedAsync(new VoteRequest { PollId = id, OptionIds = { 7 }, VoterId = "x" }, StatusCode.InvalidArgument, "unknown-option");
        await AssertRefusedAsync(new VoteRequest { PollId = id, VoterId = "x" }, StatusCode.InvalidArgument, "validation");
        await AssertRefusedAsync(new VoteRequest { PollId = id, OptionIds = { 1 } }, StatusCode.InvalidArgument, "validation");
        await AssertRefusedAsync(new VoteRequest { PollId = id, OptionIds = { 2 }, VoterId = "dave" }, StatusCode.AlreadyExists, "already-voted");
        await AssertRefusedAsync(new VoteRequest { PollId = id, OptionIds = { 2 }, VoterId = "erin", IdempotencyKey = "key-d" }, StatusCode.FailedPrecondition, "idempotency-key-reused");
        await AssertRefusedAsync(new VoteRequest { PollId = closedPoll, OptionIds = { 1 }, VoterId = "x" }, StatusCode.FailedPrecondition, "poll-closed");

        var results = await Server.Client.ResultsAsync(id);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 0 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task The_gRPC_port_speaks_h2c_with_prior_knowledge_and_serves_nothing_else()
    {
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TestServer.Timeout };

        using var response = await h2c.GetAsync(new Uri(Server.GrpcAddress, "/healthz"));

        Assert.Equal(HttpVersion.Version20, response.Version);
        await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");

        // HTTP/2 only: Kestrel answers an HTTP/1.1 request there with a 400 that says so.
        using var http1 = new HttpClient { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TestServer.Timeout };
        using var refused = await http1.GetAsync(new Uri(Server.GrpcAddress, "/healthz"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("HTTP/2 only", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_main_port_still_serves_the_HTTP_API_over_HTTP_1_1()
    {
        var id = await CreatePollAsync(options: 2);
        using var http1 = new HttpClient { BaseAddress = Server.BaseAddress, DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TestServer.Timeout };

        using var response = await http1.GetAsync($"/v1/polls/{id}/results");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(id, (string?)(await response.ReadJsonAsync())["pollId"]);

        // Cleartext HTTP/2 with prior knowledge (what a gRPC client sends) is not taken there: hence the gRPC port.
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, Timeout = TestServer.Timeout };
        await Assert.ThrowsAsync<HttpRequestException>(() => h2c.GetAsync(new Uri(Server.BaseAddress, "/healthz")));
    }

    [Fact]
    public void Idle_HTTP2_connections_get_keep_alive_pings_so_dead_watchers_are_found()
    {
        var limits = Server.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.Http2;

        Assert.Equal(TimeSpan.FromSeconds(30), limits.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), limits.KeepAlivePingTimeout);
    }

    private async Task AssertRefusedAsync(VoteRequest request, StatusCode code, string slug)
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Client.VoteAsync(request, deadline: Deadline()));
        Assert.True(error.StatusCode == code, $"{request}: expected {code} {slug}, got {error.StatusCode}: {error.Status.Detail}");
        Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail));
        Assert.Equal("urn:tally:problem:" + slug, error.Trailers.GetValue("tally-problem-type"));
    }

    private async Task<long> VoteOverGrpcAsync(string pollId, int option, string? voterId = null, string? key = null)
    {
        var request = new VoteRequest { PollId = pollId, OptionIds = { option } };
        if (voterId is not null)
        {
            request.VoterId = voterId;
        }

        if (key is not null)
        {
            request.IdempotencyKey = key;
        }

        var reply = await Client.VoteAsync(request, deadline: Deadline());
        return reply.Seq;
    }

    private async Task<string> CreatePollAsync(int options, string dedupe = "voter", bool allowChange = false) =>
        (string)(await Server.Admin.CreatePollAsync(options, dedupe, allowChange))["id"]!;

    private static DateTime Deadline() => DateTime.UtcNow.Add(TestServer.Timeout);
}
