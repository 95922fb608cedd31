using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Tally.Engine;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Faults;

/// <summary>A batch under overload over HTTP: each partition's share is admitted on its own (two partitions here).</summary>
public sealed class BatchOverloadTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private ControlledEventLog _log = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartWithControlledLogAsync(new Dictionary<string, string>
        {
            ["Tally:Engine:Partitions"] = "2",
            ["Tally:Engine:QueueCapacity"] = "2",
            ["Tally:Engine:MaxBatch"] = "1",
        });
        _log = _server.Services.GetRequiredService<ControlledEventLog>();
    }

    public async Task DisposeAsync()
    {
        _log.Open();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_full_partition_refuses_its_share_of_a_batch_overloaded_and_the_other_share_counts()
    {
        var (full, roomy) = await PollsInTwoPartitionsAsync();
        var engine = _server.Services.GetRequiredService<TallyEngine>();
        _log.Close();
        var first = _server.Client.VoteAsync(full, [1], null);
        await Eventually.WaitUntilAsync(() => _log.Waiting == 1);
        var second = _server.Client.VoteAsync(full, [1], null);
        await Eventually.WaitUntilAsync(() => engine.QueuedVotes == 2); // the full poll's partition holds all it can

        var batch = _server.Client.PostAsJsonAsync("/v1/votes/batch", new
        {
            votes = new object[]
            {
                new { pollId = full, optionIds = new[] { 2 } },
                new { pollId = roomy, optionIds = new[] { 2 } },
                new { pollId = "nosuchpoll", optionIds = new[] { 1 } },
                new { pollId = full, optionIds = new[] { 2 } },
            },
        });
        await Eventually.WaitUntilAsync(() => engine.QueuedVotes == 3); // the other share is queued
        _log.Open();

        using var response = await batch.WaitAsync(TestServer.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync())["results"]!.AsArray();
        Assert.Equal(["rejected", "counted", "rejected", "rejected"], results.Select(r => (string)r!["status"]!));
        Assert.Equal(
            ["overloaded", null, "poll-not-found", "overloaded"],
            results.Select(r => ((string?)r!["error"]?["type"])?.Replace("urn:tally:problem:", string.Empty, StringComparison.Ordinal)));
        Assert.Equal(1, await PrometheusText.ScrapeAsync(_server.Client, "tally_ingest_queue_full_total")); // one share refused
        using (var a = await first)
        using (var b = await second)
        {
            Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (a.StatusCode, b.StatusCode));
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 2, [2] = 0 }, ApiClient.Counts(await _server.Client.ResultsAsync(full)));
        Assert.Equal(new Dictionary<int, long> { [1] = 0, [2] = 1 }, ApiClient.Counts(await _server.Client.ResultsAsync(roomy)));
    }

    [Fact]
    public async Task A_batch_none_of_which_can_be_taken_is_a_503_and_counts_nothing()
    {
        var (full, _) = await PollsInTwoPartitionsAsync();
        _log.Close();
        var first = _server.Client.VoteAsync(full, [1], null);
        await Eventually.WaitUntilAsync(() => _log.Waiting == 1);
        var second = _server.Client.VoteAsync(full, [1], null);
        await Eventually.WaitUntilAsync(() => _server.Services.GetRequiredService<TallyEngine>().QueuedVotes == 2);

        using var refused = await _server.Client.PostRawAsync("/v1/votes/batch", $$"""{"votes":[{"pollId":"{{full}}","optionIds":[2]},{"pollId":"{{full}}","optionIds":[1]}]}""");

        await ApiClient.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "overloaded");
        Assert.NotNull(refused.Headers.RetryAfter);
        _log.Open();
        (await first).Dispose();
        (await second).Dispose();
        Assert.Equal(new Dictionary<int, long> { [1] = 2, [2] = 0 }, ApiClient.Counts(await _server.Client.ResultsAsync(full)));
    }

    /// <summary>Two polls (two options, no dedupe), one in each partition.</summary>
    private async Task<(string First, string Second)> PollsInTwoPartitionsAsync()
    {
        var byPartition = new string?[2];
        for (var i = 0; i < 64 && byPartition.Any(p => p is null); i++)
        {
            var id = (string)(await _server.Admin.CreatePollAsync(options: 2, dedupe: "none"))["id"]!;
            byPartition[TallyEngine.PartitionIndex(id, 2)] ??= id;
        }

        return (byPartition[0]!, byPartition[1]!);
    }
}
