using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Faults;

/// <summary>
/// The durability guarantee, tested the hard way: votes in flight from many clients, the server process
/// killed with SIGKILL (or stopped with SIGTERM), a new process on the same data. Every acknowledged
/// vote must be counted exactly once, and nothing unacknowledged may be half-applied.
/// </summary>
public sealed class ProcessFaultTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("tally-fault-").FullName;

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
    public async Task Every_acknowledged_vote_survives_sigkill_exactly_once()
    {
        var votes = new VoteLoad();
        string poll;
        await using (var server = await ServerProcess.StartAsync(_data))
        {
            poll = (string)(await server.Admin.CreatePollAsync(options: 4))["id"]!;
            var load = votes.RunAsync(server.Client, poll, workers: 16);
            await votes.WaitForAcksAsync(400);
            await server.KillAsync();
            await load;
        }

        Assert.True(votes.Acked.Count >= 400, "votes were acknowledged before the kill");
        await using (var restarted = await ServerProcess.StartAsync(_data))
        {
            await votes.VerifyExactlyOnceAsync(restarted.Client, poll);

            // And the served tally is what the log says, poll by poll (the verify command, as an operator runs it).
            var (exitCode, output) = await ServerProcess.VerifyAsync(restarted.BaseAddress);
            Assert.True(exitCode == 0, output);
            Assert.Contains("0 differences", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Sigterm_drains_in_flight_votes_writes_a_snapshot_and_exits_zero()
    {
        var votes = new VoteLoad();
        string poll;
        await using (var server = await ServerProcess.StartAsync(_data))
        {
            poll = (string)(await server.Admin.CreatePollAsync(options: 4))["id"]!;
            var load = votes.RunAsync(server.Client, poll, workers: 16);
            await votes.WaitForAcksAsync(300);
            var exitCode = await server.TerminateAsync();
            await load;

            Assert.Equal(0, exitCode);
            Assert.Contains("Engine stopped", server.Output, StringComparison.Ordinal);
        }

        await using (var restarted = await ServerProcess.StartAsync(_data))
        {
            // The final snapshot covered everything: nothing to replay.
            Assert.Contains("replayed 0 events", restarted.Output, StringComparison.Ordinal);
            await votes.VerifyExactlyOnceAsync(restarted.Client, poll);
        }
    }

    /// <summary>Votes with one voter and one idempotency key each, and the client-side record of their answers.</summary>
    private sealed class VoteLoad
    {
        private const int MaxVotes = 50_000;
        private int _next;

        public ConcurrentDictionary<int, string> Acked { get; } = new();

        public ConcurrentDictionary<int, bool> Attempted { get; } = new();

        public async Task RunAsync(HttpClient client, string poll, int workers)
        {
            using var deadline = new CancellationTokenSource(TestServer.Timeout);
            await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
            {
                while (!deadline.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref _next);
                    if (i > MaxVotes)
                    {
                        return;
                    }

                    Attempted[i] = true;
                    try
                    {
                        using var response = await client.VoteAsync(poll, [(i % 4) + 1], "voter" + i, "key" + i);
                        if (response.StatusCode == HttpStatusCode.Created)
                        {
                            Acked[i] = (string)(await response.ReadJsonAsync())["voteId"]!;
                        }
                        else if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                        {
                            throw new InvalidOperationException($"vote {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
                    {
                        return; // the server went away mid-request: this vote's fate is unknown to the client
                    }
                }
            })));
        }

        public Task WaitForAcksAsync(int count) => Eventually.WaitUntilAsync(() => Acked.Count >= count);

        /// <summary>
        /// Acknowledged votes are all counted; retrying every attempted vote with its key returns the first
        /// answer for the acknowledged ones and settles the unknown ones; then the total equals the attempts.
        /// </summary>
        public async Task VerifyExactlyOnceAsync(HttpClient client, string poll)
        {
            var before = await client.ResultsAsync(poll);
            Assert.True((long)before["totalVotes"]! >= Acked.Count, $"counted {before["totalVotes"]} < acknowledged {Acked.Count}");

            foreach (var batch in Attempted.Keys.Chunk(32))
            {
                await Task.WhenAll(batch.Select(async i =>
                {
                    using var response = await client.VoteAsync(poll, [(i % 4) + 1], "voter" + i, "key" + i);
                    Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                    var voteId = (string)(await response.ReadJsonAsync())["voteId"]!;
                    if (Acked.TryGetValue(i, out var first))
                    {
                        Assert.Equal(first, voteId);
                    }
                })).WaitAsync(TestServer.Timeout);
            }

            var after = await client.ResultsAsync(poll);
            Assert.Equal(Attempted.Count, (long)after["totalVotes"]!);
            Assert.Equal(Attempted.Count, ApiClient.Counts(after).Values.Sum());
            Assert.Equal(Attempted.Count + 1, (long)after["seq"]!); // PollCreated + one VoteCast per voter, no gaps
        }
    }
}
