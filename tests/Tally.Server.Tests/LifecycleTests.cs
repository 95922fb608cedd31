using System.Net;
using System.Net.Http.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests;

/// <summary>A poll's life over the API: draft, scheduled, open, paused, closed by its ballot limit; watchers follow it.</summary>
public sealed class LifecycleTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private TestServer Server => fixture.Server;

    public void Dispose() => _channel.Dispose();

    private async Task<System.Text.Json.Nodes.JsonObject> PostAsync(string id, string verb, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Server.Admin.PostAsync($"/v1/polls/{id}/{verb}", null);
        Assert.Equal(expected, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    [Fact]
    public async Task A_draft_refuses_votes_until_opened_and_watchers_see_it_pause_and_resume()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "Ready?", options = new[] { "Yes", "No" }, draft = true });
        Assert.Equal("draft", (string?)poll["status"]);
        var id = (string)poll["id"]!;
        using (var early = await Server.Client.VoteAsync(id, [1], "ann"))
        {
            var problem = await ApiClient.AssertProblemAsync(early, HttpStatusCode.Conflict, "poll-not-open");
            Assert.Contains("draft", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        Assert.Equal("draft", (string?)(await sse.NextAsync()).Data["status"]);
        using var grpc = new GrpcWatcher(new LiveClient(_channel), id);
        Assert.Equal(PollStatus.Draft, (await grpc.NextAsync())!.Status);

        Assert.Equal("open", (string?)(await PostAsync(id, "open"))["status"]);
        Assert.Equal("open", (string?)(await NextWithStatusAsync(sse)).Data["status"]);
        using (var vote = await Server.Client.VoteAsync(id, [1], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        Assert.Equal("paused", (string?)(await PostAsync(id, "pause"))["status"]);
        Assert.Equal("paused", (string?)(await NextWithStatusAsync(sse)).Data["status"]);
        await ReadUntilStatusAsync(grpc, PollStatus.Paused);
        using (var paused = await Server.Client.VoteAsync(id, [2], "bob"))
        {
            await ApiClient.AssertProblemAsync(paused, HttpStatusCode.Conflict, "poll-not-open");
        }

        var grpcVote = await Assert.ThrowsAsync<RpcException>(() => new LiveClient(_channel).VoteAsync(new VoteRequest { PollId = id, OptionIds = { 2 }, VoterId = "bob" }, deadline: DateTime.UtcNow.Add(TestServer.Timeout)).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, grpcVote.StatusCode);
        Assert.Equal("urn:tally:problem:poll-not-open", grpcVote.Trailers.GetValue("tally-problem-type"));
        var conflict = await PostAsyncProblem(id, "open");
        Assert.Contains("paused", (string)conflict["detail"]!, StringComparison.Ordinal);

        Assert.Equal("open", (string?)(await PostAsync(id, "resume"))["status"]);
        Assert.Equal("open", (string?)(await NextWithStatusAsync(sse)).Data["status"]);
        using (var again = await Server.Client.VoteAsync(id, [2], "bob"))
        {
            Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 1 }, ApiClient.Counts(await Server.Client.ResultsAsync(id)));
    }

    [Fact]
    public async Task A_scheduled_poll_says_when_it_opens_and_bad_schedules_are_refused()
    {
        var opensAt = DateTimeOffset.UtcNow.AddHours(1);
        var poll = await Server.Admin.CreatePollAsync(new { question = "Later?", options = new[] { "A", "B" }, opensAt });
        Assert.Equal("scheduled", (string?)poll["status"]);
        Assert.Equal(opensAt.ToUnixTimeMilliseconds(), ((DateTimeOffset)poll["opensAt"]!).ToUnixTimeMilliseconds());
        using (var vote = await Server.Client.VoteAsync((string)poll["id"]!, [1], "ann"))
        {
            var problem = await ApiClient.AssertProblemAsync(vote, HttpStatusCode.Conflict, "poll-not-open");
            Assert.Contains("opens at", (string)problem["detail"]!, StringComparison.Ordinal);
        }

        foreach (var (body, field) in new (object, string)[]
        {
            (new { question = "q", options = new[] { "A", "B" }, opensAt = DateTimeOffset.UtcNow.AddMinutes(-1) }, "opensAt"),
            (new { question = "q", options = new[] { "A", "B" }, opensAt = DateTimeOffset.UtcNow.AddHours(2), closesAt = DateTimeOffset.UtcNow.AddHours(1) }, "closesAt"),
            (new { question = "q", options = new[] { "A", "B" }, maxBallots = 0 }, "maxBallots"),
        })
        {
            using var response = await Server.Admin.PostAsJsonAsync("/v1/polls", body);
            var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
            Assert.NotNull(problem["errors"]![field]);
        }

        // Opening a scheduled poll by hand is fine; pausing an unopened one is not.
        var id = (string)poll["id"]!;
        Assert.Equal("invalid-transition", ((string)(await PostAsyncProblem(id, "pause"))["type"]!).Split(':')[^1]);
        Assert.Equal("open", (string?)(await PostAsync(id, "open"))["status"]);
    }

    [Fact]
    public async Task A_poll_with_max_ballots_closes_with_its_last_ballot_and_its_watchers_get_closed()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(new { question = "First three", options = new[] { "A", "B" }, maxBallots = 3 }))["id"]!;
        await using var socket = await LiveSocket.ConnectAsync(Server, LiveSocket.Json);
        await socket.SubscribeAsync(id);
        await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");

        for (var i = 0; i < 3; i++)
        {
            using var vote = await Server.Client.VoteAsync(id, [1 + (i % 2)], "v" + i);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        var closed = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "closed");
        Assert.Equal(3, (long)closed["totalVotes"]!);
        using var late = await Server.Client.VoteAsync(id, [1], "v9");
        await ApiClient.AssertProblemAsync(late, HttpStatusCode.Conflict, "poll-closed");
        Assert.Equal(3L, (long)(await Server.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/v1/polls/{id}"))!["maxBallots"]!);
    }

    [Fact]
    public async Task A_reopened_poll_goes_on_over_the_same_sse_stream_and_closes_again()
    {
        var poll = await Server.Admin.CreatePollAsync(new { question = "Again?", options = new[] { "A", "B" }, allowReopen = true });
        Assert.True((bool)poll["allowReopen"]!);
        var id = (string)poll["id"]!;
        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        await sse.NextAsync();
        await PostAsync(id, "close");
        while ((await sse.NextAsync()).Name != "closed")
        {
        }

        Assert.Equal("open", (string?)(await PostAsync(id, "reopen"))["status"]);
        Assert.Equal("open", (string?)(await NextWithStatusAsync(sse)).Data["status"]);
        using (var vote = await Server.Client.VoteAsync(id, [2], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        await PostAsync(id, "close");
        SseEvent closed;
        while ((closed = await sse.NextAsync()).Name != "closed")
        {
        }

        Assert.Equal(1, (long)closed.Data["totalVotes"]!);
        var plain = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        await PostAsync(plain, "close");
        Assert.Contains("allowReopen", (string)(await PostAsyncProblem(plain, "reopen"))["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_a_manager_changes_a_polls_status_and_an_unknown_poll_is_a_404()
    {
        var id = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;

        using (var anonymous = await Server.Client.PostAsync($"/v1/polls/{id}/pause", null))
        {
            await ApiClient.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var missing = await Server.Admin.PostAsync("/v1/polls/nosuchpoll/resume", null);
        await ApiClient.AssertProblemAsync(missing, HttpStatusCode.NotFound, "poll-not-found");
    }

    private async Task<System.Text.Json.Nodes.JsonObject> PostAsyncProblem(string id, string verb)
    {
        using var response = await Server.Admin.PostAsync($"/v1/polls/{id}/{verb}", null);
        return await ApiClient.AssertProblemAsync(response, HttpStatusCode.Conflict, "invalid-transition");
    }

    private static async Task<SseEvent> NextWithStatusAsync(SseClient sse)
    {
        while (true)
        {
            var message = await sse.NextAsync();
            if (message.Name == "delta" && message.Data["status"] is not null)
            {
                return message;
            }
        }
    }

    private static async Task ReadUntilStatusAsync(GrpcWatcher watcher, PollStatus status)
    {
        while ((await watcher.NextAsync())!.Status != status)
        {
        }
    }
}
