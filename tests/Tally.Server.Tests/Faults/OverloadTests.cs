using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Faults;

/// <summary>Graceful overload and failed writes over HTTP, with the event log held at a gate by the test.</summary>
public sealed class OverloadTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private ControlledEventLog _log = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartWithControlledLogAsync(TestServer.TinyQueue);
        _log = _server.Services.GetRequiredService<ControlledEventLog>();
    }

    public async Task DisposeAsync()
    {
        _log.Open();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_full_queue_answers_503_with_retry_after_while_reads_and_health_keep_working()
    {
        var poll = (string)(await _server.Admin.CreatePollAsync(dedupe: "none"))["id"]!;
        _log.Close();

        var first = _server.Client.VoteAsync(poll, [1], null);
        await Eventually.WaitUntilAsync(() => _log.Waiting == 1);
        var second = _server.Client.VoteAsync(poll, [2], null);
        await Eventually.WaitUntilAsync(() => _server.Services.GetRequiredService<Tally.Engine.TallyEngine>().QueuedVotes == 2);

        using var refused = await _server.Client.VoteAsync(poll, [3], null);
        await ApiClient.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "overloaded");
        Assert.Equal("1", refused.Headers.RetryAfter?.ToString());

        using var refusedBatch = await _server.Client.PostRawAsync("/v1/votes/batch", $$"""{"votes":[{"pollId":"{{poll}}","optionIds":[3]}]}""");
        await ApiClient.AssertProblemAsync(refusedBatch, HttpStatusCode.ServiceUnavailable, "overloaded");
        Assert.NotNull(refusedBatch.Headers.RetryAfter);
        Assert.Equal(2, await PrometheusText.ScrapeAsync(_server.Client, "tally_ingest_queue_full_total")); // two requests refused
        Assert.Equal(2, await PrometheusText.ScrapeAsync(_server.Client, "tally_ingest_queued_votes"));

        using (var health = await _server.Client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        Assert.Equal(0, (long)(await _server.Client.ResultsAsync(poll))["totalVotes"]!);

        _log.Open();
        using var firstResponse = await first;
        using var secondResponse = await second;
        Assert.Equal(HttpStatusCode.Created, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Created, secondResponse.StatusCode);
        var results = await _server.Client.ResultsAsync(poll);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 1, [3] = 0 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task A_vote_the_log_cannot_make_durable_gets_503_and_is_not_counted()
    {
        var poll = (string)(await _server.Admin.CreatePollAsync())["id"]!;
        _log.FailNext();

        using var failed = await _server.Client.VoteAsync(poll, [1], "alice", "k1");
        await ApiClient.AssertProblemAsync(failed, HttpStatusCode.ServiceUnavailable, "unavailable");
        var results = await _server.Client.ResultsAsync(poll);
        Assert.Equal(0, (long)results["totalVotes"]!);
        Assert.Equal(1, (long)results["seq"]!);

        // The retry with the same key is a first attempt, not a replay of something half-done.
        using var retried = await _server.Client.VoteAsync(poll, [1], "alice", "k1");
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(2, (long)(await retried.ReadJsonAsync())["seq"]!);
    }
}
