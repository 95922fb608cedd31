using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Faults.Cluster;

/// <summary>What one seeded run did and found.</summary>
internal sealed record FaultReport(
    int Seed,
    TimeSpan Schedule,
    TimeSpan Elapsed,
    VoteRecord[] Votes,
    IReadOnlyDictionary<string, int> Faults,
    IReadOnlyList<string> FaultLog,
    long WatcherMessages,
    int WatcherConnections,
    IReadOnlyList<string> Anomalies)
{
    public int Count(VoteOutcome outcome) => Votes.Count(v => v.Outcome == outcome);

    /// <summary>One line for a table of runs.</summary>
    public string Line() =>
        $"| {Seed} | {Schedule.TotalSeconds:0} s | {Faults.Values.Sum()} ({string.Join(", ", Faults.OrderBy(f => f.Key).Select(f => $"{f.Key} {f.Value}"))}) | {Votes.Length:N0} | {Count(VoteOutcome.Acknowledged):N0} | {Count(VoteOutcome.Refused):N0} | {Count(VoteOutcome.Unknown):N0} | {Count(VoteOutcome.NeverSent):N0} | {WatcherMessages:N0} / {WatcherConnections} | {Anomalies.Count} |";

    public const string Header = "| seed | schedule | faults injected | votes | acknowledged | refused | unknown | never sent | watcher messages / connections | anomalies |\n|---|---|---|---|---|---|---|---|---|---|";

    public override string ToString()
    {
        var text = new StringBuilder()
            .AppendLine($"seed {Seed}: {Schedule.TotalSeconds:0} s of faults, {Elapsed.TotalSeconds:0} s in all")
            .AppendLine($"votes {Votes.Length}: acknowledged {Count(VoteOutcome.Acknowledged)}, refused {Count(VoteOutcome.Refused)}, unknown {Count(VoteOutcome.Unknown)}, never sent {Count(VoteOutcome.NeverSent)}; attempts {Votes.Sum(v => v.Attempts)}")
            .AppendLine($"watchers: {WatcherMessages} messages over {WatcherConnections} connections")
            .AppendLine("faults:");
        foreach (var line in FaultLog)
        {
            text.AppendLine("  " + line);
        }

        text.AppendLine($"anomalies: {Anomalies.Count}");
        foreach (var anomaly in Anomalies.Take(50))
        {
            text.AppendLine("  " + anomaly);
        }

        return text.ToString();
    }
}

/// <summary>
/// One seeded run of the cluster fault harness: a fresh <see cref="FaultCluster"/>, four polls (dedupe by voter and
/// none), voters and watchers recording their history while the <see cref="Nemesis"/> runs its schedule, then everything
/// healed, every vote answered or given up, and the <see cref="FaultChecker"/>'s verdict.
/// </summary>
internal static class FaultRun
{
    public const int Polls = 4;
    public const int Workers = 6;
    public const int MaxVotes = 20_000;
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(90);

    /// <param name="afterwards">Runs on the healed cluster after a clean verdict, before it is torn down (the checker's own test).</param>
    public static async Task<FaultReport> RunAsync(int seed, TimeSpan schedule, Func<FaultCluster, FaultHistory, string[], Task>? afterwards = null)
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await FaultCluster.StartAsync();
        try
        {
            var polls = await CreatePollsAsync(cluster);
            var history = new FaultHistory(cluster, polls, seed);
            using var stopWatching = new CancellationTokenSource();
            history.Watch(perPoll: 2, stopWatching.Token);
            using var stopSending = new CancellationTokenSource(schedule);
            using var giveUp = new CancellationTokenSource(schedule + Answer);
            var voting = history.VoteAsync(Workers, MaxVotes, stopSending.Token, giveUp.Token);
            var nemesis = new Nemesis(cluster, seed);
            await nemesis.RunAsync(schedule, CancellationToken.None);
            await voting.WaitAsync(Answer + TimeSpan.FromSeconds(30));
            var anomalies = await FaultChecker.CheckAsync(cluster, history, polls);
            if (anomalies.Count > 0)
            {
                anomalies.Add("every process's output: " + KeepLogs(cluster, seed));
            }
            if (afterwards is not null && anomalies.Count == 0)
            {
                await afterwards(cluster, history, polls);
            }

            await stopWatching.CancelAsync();
            await Task.WhenAll(history.Watchers.Select(w => w.Task)).WaitAsync(TimeSpan.FromSeconds(30));
            return new FaultReport(
                seed,
                schedule,
                clock.Elapsed,
                [.. history.Votes],
                nemesis.Injected,
                nemesis.Log,
                history.Watchers.Sum(w => w.Messages),
                history.Watchers.Sum(w => w.Connections),
                anomalies);
        }
        catch (Exception ex) when (ex is not FaultRunException)
        {
            throw new FaultRunException($"seed {seed}: {ex.GetType().Name}: {ex.Message} (every process's output: {KeepLogs(cluster, seed)})\n{string.Join('\n', cluster.Nodes.SelectMany(n => n.Output).TakeLast(400))}", ex);
        }
    }

    /// <summary>Writes the run's logs to <c>TALLY_FAULT_LOGS</c> (default: the temp folder), a folder per seed; its path.</summary>
    private static string KeepLogs(FaultCluster cluster, int seed)
    {
        var folder = Path.Combine(Environment.GetEnvironmentVariable("TALLY_FAULT_LOGS") ?? Path.GetTempPath(), $"tally-fault-seed-{seed}-{DateTime.UtcNow:yyyyMMddTHHmmss}");
        cluster.WriteLogs(folder);
        return folder;
    }

    /// <summary>Four three-option polls through the first node (retried while partitions find owners), then seen by every node.</summary>
    private static async Task<string[]> CreatePollsAsync(FaultCluster cluster)
    {
        using var admin = cluster.Nodes[0].NewClient(admin: true, TimeSpan.FromSeconds(10));
        var polls = new string[Polls];
        for (var i = 0; i < Polls; i++)
        {
            var body = new { question = "Which one?", options = new[] { "A", "B", "C" }, dedupe = i % 2 == 0 ? "voter" : "none" };
            string? id = null;
            await Eventually.WaitUntilAsync(async () =>
            {
                using var response = await admin.PostAsJsonAsync("/v1/polls", body);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    id = (string)(await response.ReadJsonAsync())["id"]!;
                    return true;
                }

                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                return false;
            }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
            polls[i] = id!;
        }

        foreach (var node in cluster.Nodes)
        {
            using var client = node.NewClient(admin: false, TimeSpan.FromSeconds(10));
            foreach (var poll in polls)
            {
                await Eventually.WaitUntilAsync(async () =>
                {
                    using var response = await client.GetAsync(new Uri($"/v1/polls/{poll}/results", UriKind.Relative));
                    return response.IsSuccessStatusCode;
                }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
            }
        }

        return polls;
    }
}

/// <summary>A run that could not reach its verdict (a process that would not start, a cluster that would not heal).</summary>
internal sealed class FaultRunException(string message, Exception inner) : Exception(message, inner);
