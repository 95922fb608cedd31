using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests.Live;

/// <summary>gRPC under overload, failed writes and shutdown, on a server whose event log the test holds at a gate.</summary>
public sealed class GrpcFaultTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private ControlledEventLog _log = null!;
    private GrpcChannel _channel = null!;

    private LiveClient Client => new(_channel);

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartWithControlledLogAsync(TestServer.TinyQueue);
        _log = _server.Services.GetRequiredService<ControlledEventLog>();
        _channel = GrpcChannel.ForAddress(_server.GrpcAddress);
    }

    public async Task DisposeAsync()
    {
        _log.Open();
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_full_queue_is_Unavailable_with_a_retry_pushback_and_counts_nothing()
    {
        var poll = (string)(await _server.Admin.CreatePollAsync(dedupe: "none"))["id"]!;
        _log.Close();
        var first = Client.VoteAsync(new VoteRequest { PollId = poll, OptionIds = { 1 } }, deadline: Deadline()).ResponseAsync;
        await Eventually.WaitUntilAsync(() => _log.Waiting == 1);
        var second = Client.VoteAsync(new VoteRequest { PollId = poll, OptionIds = { 2 } }, deadline: Deadline()).ResponseAsync;
        await Eventually.WaitUntilAsync(() => _server.Services.GetRequiredService<Tally.Engine.TallyEngine>().QueuedVotes == 2);

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.VoteAsync(new VoteRequest { PollId = poll, OptionIds = { 3 } }, deadline: Deadline()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("urn:tally:problem:overloaded", error.Trailers.GetValue("tally-problem-type"));
        Assert.Equal("1000", error.Trailers.GetValue("grpc-retry-pushback-ms"));
        _log.Open();
        Assert.Equal(VoteStatus.Counted, (await first.WaitAsync(TestServer.Timeout)).Status);
        Assert.Equal(VoteStatus.Counted, (await second.WaitAsync(TestServer.Timeout)).Status);
        var results = await _server.Client.ResultsAsync(poll);
        Assert.Equal(new Dictionary<int, long> { [1] = 1, [2] = 1, [3] = 0 }, ApiClient.Counts(results));
    }

    [Fact]
    public async Task A_vote_the_log_cannot_make_durable_is_Unavailable_and_not_counted()
    {
        var poll = (string)(await _server.Admin.CreatePollAsync())["id"]!;
        _log.FailNext();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Client.VoteAsync(new VoteRequest { PollId = poll, OptionIds = { 1 }, VoterId = "alice", IdempotencyKey = "k1" }, deadline: Deadline()));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("urn:tally:problem:unavailable", error.Trailers.GetValue("tally-problem-type"));
        Assert.Equal(0, (long)(await _server.Client.ResultsAsync(poll))["totalVotes"]!);
        var retried = await Client.VoteAsync(new VoteRequest { PollId = poll, OptionIds = { 1 }, VoterId = "alice", IdempotencyKey = "k1" }, deadline: Deadline());
        Assert.Equal(VoteStatus.Counted, retried.Status);
    }

    [Fact]
    public async Task Shutdown_ends_watch_streams_promptly_with_Unavailable()
    {
        var poll = (string)(await _server.Admin.CreatePollAsync())["id"]!;
        using var watcher = new GrpcWatcher(Client, poll);
        Assert.True((await watcher.NextAsync())!.Snapshot);

        // The host waits for in-flight requests (30 s at most): a stream that did not end would hold it that long.
        var stopping = _server.DisposeAsync().AsTask();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await watcher.NextAsync() is not null)
            {
                // a presence delta may come first
            }

            Assert.Fail("The stream ended with OK, as if the poll had closed: " + watcher.CallStatus);
        });
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("since_seq", error.Status.Detail, StringComparison.Ordinal);
    }

    private static DateTime Deadline() => DateTime.UtcNow.Add(TestServer.Timeout);
}
