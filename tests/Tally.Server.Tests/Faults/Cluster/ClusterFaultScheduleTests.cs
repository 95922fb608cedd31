using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Tally.Server.Tests.Faults.Cluster;

/// <summary>
/// The cluster fault harness's seeded schedules, run by <c>bench/fault-soak.sh</c> or whenever <c>TALLY_FAULT_SEEDS</c> is set
/// (see <see cref="FaultScheduleFactAttribute"/> for why not in every <c>./test.sh</c> yet): one short seeded schedule (the soak, <c>bench/fault-soak.sh</c>,
/// runs this test with many seeds and longer schedules). <c>TALLY_FAULT_SEEDS</c> (<c>7</c>, <c>1,5</c> or <c>1..20</c>)
/// and <c>TALLY_FAULT_SECONDS</c> choose them; a failing seed replays its schedule with <c>TALLY_FAULT_SEEDS=&lt;seed&gt;</c>.
/// <c>TALLY_FAULT_REPORT</c> names a file each run's report is appended to.
/// </summary>
[Collection(Name)]
public sealed class ClusterFaultScheduleTests(ITestOutputHelper output)
{
    public const string Name = "cluster fault schedules";

    [FaultScheduleFact]
    public async Task Seeded_fault_schedules_lose_no_acknowledged_vote_count_none_twice_and_leave_no_watcher_behind()
    {
        var seeds = Seeds(Environment.GetEnvironmentVariable("TALLY_FAULT_SEEDS") ?? "1");
        var schedule = TimeSpan.FromSeconds(int.Parse(Environment.GetEnvironmentVariable("TALLY_FAULT_SECONDS") ?? "30", CultureInfo.InvariantCulture));
        var reportFile = Environment.GetEnvironmentVariable("TALLY_FAULT_REPORT");
        var failed = new List<string>();
        foreach (var seed in seeds)
        {
            // After the first run's verdict, the checker is shown to see a loss: one acknowledged vote is erased behind
            // the clients' backs (as a lost append would leave it) and the same check must name it.
            var report = await FaultRun.RunAsync(seed, schedule, seed == seeds[0] ? CheckerSeesALostVoteAsync : null);
            output.WriteLine(report.ToString());
            if (reportFile is not null)
            {
                await File.AppendAllTextAsync(reportFile, report.Line() + "\n");
                await File.AppendAllTextAsync(reportFile + ".log", report + "\n");
            }

            // The harness must have done something: faults happened and votes were acknowledged through them.
            Assert.True(report.Faults.Values.Sum() > 0, $"seed {seed} injected no fault");
            Assert.True(report.Count(VoteOutcome.Acknowledged) > 0, $"seed {seed} had no vote acknowledged");
            if (report.Anomalies.Count > 0)
            {
                failed.Add(report.ToString());
            }
        }

        Assert.True(failed.Count == 0, $"anomalies (replay a seed with TALLY_FAULT_SEEDS=<seed>):\n{string.Join('\n', failed)}");
    }

    private static async Task CheckerSeesALostVoteAsync(FaultCluster cluster, FaultHistory history, string[] polls)
    {
        var lost = history.Votes.First(v => v.Outcome == VoteOutcome.Acknowledged && v.Poll == polls[0]); // a dedupe-by-voter poll (erasure needs one)
        using var admin = cluster.Nodes[0].NewClient(admin: true, TimeSpan.FromSeconds(30));
        using var erased = await admin.PostAsJsonAsync($"/v1/polls/{lost.Poll}/erasures", new { voterId = lost.Voter });
        Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
        var anomalies = await FaultChecker.CheckAsync(cluster, history, polls);
        Assert.Contains(anomalies, a => a.Contains($"acknowledged vote {lost.Id} ", StringComparison.Ordinal));
    }

    private static int[] Seeds(string text)
    {
        if (text.Split("..") is [var from, var to])
        {
            var first = int.Parse(from, CultureInfo.InvariantCulture);
            return [.. Enumerable.Range(first, int.Parse(to, CultureInfo.InvariantCulture) - first + 1)];
        }

        return [.. text.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
    }
}

/// <summary>The fault runs take both cores and the machine's network set-up: they run alone, after the other tests.</summary>
[CollectionDefinition(ClusterFaultScheduleTests.Name, DisableParallelization = true)]
public sealed class ClusterFaultScheduleCollection;

/// <summary>
/// Runs only when <c>TALLY_FAULT_SEEDS</c> is set (<c>bench/fault-soak.sh</c> sets it). The harness finds an open fencing
/// anomaly in cluster mode about once in eight runs (docs/faults.md: a partition's log with one position written twice,
/// which its replay refuses); until that is fixed it would fail CI at random, so <c>./test.sh</c> skips it, saying why.
/// </summary>
public sealed class FaultScheduleFactAttribute : FactAttribute
{
    public FaultScheduleFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("TALLY_FAULT_SEEDS") is null)
        {
            Skip = "Set TALLY_FAULT_SEEDS (e.g. 1) to run the cluster fault harness, or run bench/fault-soak.sh: it meets an open fencing anomaly (docs/faults.md) about once in eight runs, so ./test.sh does not run it until that is fixed.";
        }
    }
}
