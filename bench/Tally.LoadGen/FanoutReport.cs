using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// <c>report-fanout --dir D</c>: reads the <c>fanout-*.json</c> and <c>idle-*.json</c> runs in D and prints
/// markdown: medians per workload, the goals of the live-results issue, and every run.
/// </summary>
internal static class FanoutReport
{
    /// <summary>At 1k watchers × 1k votes/s, vote sent → watcher received p99 must be at most this.</summary>
    private const double LoadedP99GoalMs = 50;

    /// <summary>At 1k watchers × 1 vote/s (the leading edge, not the tick), p50 must be at most this.</summary>
    private const double QuietP50GoalMs = 5;

    /// <summary>Server memory per idle WebSocket watcher must be at most this (8 KB, read as 8 KiB).</summary>
    private const double IdleGoalKiB = 8;

    public static int Run(string[] args)
    {
        if (args.Length != 2 || args[0] != "--dir")
        {
            throw new ArgumentException("usage: report-fanout --dir <folder of fanout-*.json and idle-*.json files>");
        }

        var fanouts = Directory.GetFiles(args[1], "fanout-*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize(File.ReadAllText(f), LoadGenJsonContext.Default.FanoutResult)!).ToList();
        var idles = Directory.GetFiles(args[1], "idle-*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize(File.ReadAllText(f), LoadGenJsonContext.Default.IdleResult)!).ToList();
        if (fanouts.Count + idles.Count == 0)
        {
            throw new ArgumentException($"No fanout-*.json or idle-*.json in {args[1]}.");
        }

        Console.Write(Render(fanouts, idles));
        return fanouts.All(r => r.Verified) && idles.All(r => r.Verified) ? 0 : 3;
    }

    private static string Render(List<FanoutResult> fanouts, List<IdleResult> idles)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var goals = new List<string>();
        if (fanouts.Count > 0)
        {
            md.AppendLine("**Fan-out** — N watchers of one poll, votes over HTTP at a fixed rate; latency is vote sent → watcher received (client clock) over every (vote, watcher) pair of the measured window.");
            md.AppendLine();
            md.AppendLine("| workload | transport | runs | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | first watcher p50 / p99 ms | last watcher p50 / p99 ms | vote ack p50 / p99 ms | votes/s | messages/s delivered | server CPU-s | load-gen CPU-s | load-gen CPU µs/message | server KiB/watcher |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var group in fanouts.GroupBy(r => (r.Watchers, r.Rate, r.Transport)))
            {
                var runs = group.ToList();
                var name = string.Create(inv, $"{group.Key.Watchers:N0} watcher{(group.Key.Watchers == 1 ? "" : "s")} × {group.Key.Rate:N0} vote{(group.Key.Rate == 1 ? "" : "s")}/s");
                md.AppendLine(string.Create(inv,
                    $"| {name} | {group.Key.Transport} | {runs.Count} | {M(runs, r => r.P50Ms):0.00} | {M(runs, r => r.P90Ms):0.00} | {M(runs, r => r.P99Ms):0.00} | {M(runs, r => r.P999Ms):0.00} | {M(runs, r => r.MaxMs):0.00} | {M(runs, r => r.FirstWatcherP50Ms):0.00} / {M(runs, r => r.FirstWatcherP99Ms):0.00} | {M(runs, r => r.LastWatcherP50Ms):0.00} / {M(runs, r => r.LastWatcherP99Ms):0.00} | {M(runs, r => r.AckP50Ms):0.00} / {M(runs, r => r.AckP99Ms):0.00} | {M(runs, r => r.VotesPerSecond):N0} | {M(runs, r => r.MessagesPerSecond):N0} | {M(runs, r => r.ServerCpuSeconds ?? double.NaN):0.00} | {M(runs, r => r.LoadGenCpuSeconds):0.00} | {PerMessage(runs)} | {M(runs, r => r.KiBPerWatcher ?? double.NaN):0.0} |"));
                if (group.Key.Watchers >= 1000 && group.Key.Rate >= 1000)
                {
                    var p99 = M(runs, r => r.P99Ms);
                    goals.Add(string.Create(inv, $"- {name} over {group.Key.Transport}: p99 ≤ {LoadedP99GoalMs:0} ms — **{(p99 <= LoadedP99GoalMs ? "met" : "not met")}** (median p99 {p99:0.00} ms)"));
                }
                else if (group.Key.Watchers >= 1000 && group.Key.Rate <= 1)
                {
                    var p50 = M(runs, r => r.P50Ms);
                    goals.Add(string.Create(inv, $"- {name} over {group.Key.Transport}: p50 ≤ {QuietP50GoalMs:0} ms — **{(p50 <= QuietP50GoalMs ? "met" : "not met")}** (median p50 {p50:0.00} ms)"));
                }
            }

            md.AppendLine();
            md.AppendLine("Medians over the runs of each row (each percentile is the median of the runs' percentiles). First / last watcher: per vote, when the first and the last of the N watchers saw it — the first is the server's path from the HTTP request to one socket (the leading edge), the gap to the last is the fan-out to N sockets *and* the load generator reading N sockets (on its own core when the script pins it). Vote ack: the vote's own HTTP round trip (send → 201, after the group commit's fsync), which the delivery latency includes. Messages/s: every message all watchers received in the window (deltas, presence included). CPU-s: user + system CPU seconds inside the measured window, server and load generator apart. KiB/watcher: (server RSS once the watchers are connected − RSS before) / watchers, on a server that has served earlier runs (see the idle rows for memory on a fresh one).");
            md.AppendLine();
        }

        if (idles.Count > 0)
        {
            md.AppendLine("**Idle watchers** — as many as the machine allows up to the cap, spread over a few polls, sitting idle; each round on a fresh server.");
            md.AppendLine();
            md.AppendLine("| transport | runs | cap | watchers connected | connect s | server RSS before → idle MiB | **server RSS KiB per idle watcher** | managed heap after full GC, before → idle MiB | managed heap KiB per idle watcher | server CPU-s while idle | one vote → every watcher p50 / p99 / max ms | load-gen RSS MiB |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var group in idles.GroupBy(r => (r.Transport, r.Cap)))
            {
                var runs = group.ToList();
                var kib = M(runs, r => r.KiBPerWatcher ?? double.NaN);
                var heap = M(runs, r => r.HeapKiBPerWatcher ?? double.NaN);
                md.AppendLine(string.Create(inv,
                    $"| {group.Key.Transport} | {runs.Count} | {group.Key.Cap:N0} | {M(runs, r => r.Watchers):N0} | {M(runs, r => r.ConnectSeconds):0.0} | {M(runs, r => r.ServerRssBeforeMiB ?? double.NaN):0.0} → {M(runs, r => r.ServerRssIdleMiB ?? double.NaN):0.0} | {kib:0.00} | {M(runs, r => r.ServerHeapBeforeMiB ?? double.NaN):0.0} → {M(runs, r => r.ServerHeapIdleMiB ?? double.NaN):0.0} | {heap:0.00} | {M(runs, r => r.ServerIdleCpuSeconds ?? double.NaN):0.00} in {runs[0].IdleSeconds:0.#} s | {M(runs, r => r.WakeP50Ms):0.0} / {M(runs, r => r.WakeP99Ms):0.0} / {M(runs, r => r.WakeMaxMs):0.0} | {M(runs, r => r.LoadGenRssMiB):0} |"));
                var goal = $"≤ {IdleGoalKiB:0} KiB server memory per idle WebSocket watcher";
                goals.Add(group.Key.Transport == WatchTransports.WebSocket
                    ? string.Create(inv, $"- {goal} — **{(kib <= IdleGoalKiB ? "met" : "not met")}** by resident memory (median {kib:0.00} KiB over {M(runs, r => r.Watchers):N0} watchers); the managed heap alone grows {heap:0.00} KiB per watcher")
                    : string.Create(inv, $"- {goal} — not measured over WebSocket in this run; over SSE an idle watcher costs a median {kib:0.00} KiB of resident memory, {heap:0.00} KiB of it managed heap"));
            }

            md.AppendLine();
            md.AppendLine("RSS KiB per idle watcher: (server RSS with the watchers connected, presence settled and idle − RSS before they connected) / watchers connected: what an operator sees, and what the goal is judged by. RSS counts everything the process holds — the watchers' objects and buffers, native memory, and heap the GC has grown and not given back — so it is an upper bound on what a watcher keeps. Managed heap: the server's GC heap (all generations, LOH, POH) right after a full collection the load generator asks for over the diagnostics port (EventPipe, GCHeapCollect, as dotnet-gcdump does), before the watchers connect and once they are idle: the live objects a watcher keeps, garbage excluded.");
            md.AppendLine();
        }

        md.AppendLine("Goals:");
        md.AppendLine();
        foreach (var goal in goals)
        {
            md.AppendLine(goal);
        }

        md.AppendLine();
        var failed = fanouts.Count(r => !r.Verified) + idles.Count(r => !r.Verified);
        var watchersChecked = fanouts.Sum(r => (long)r.Watchers) + idles.Sum(r => (long)r.Watchers);
        md.AppendLine(failed == 0
            ? string.Create(inv, $"Verification: in all {fanouts.Count + idles.Count} runs every watcher ({watchersChecked:N0} in all) ended at the served seq with exactly the counts `GET /results` serves; no message went back in seq, no stream ended early, no (vote, watcher) pair went undelivered.")
            : string.Create(inv, $"**Verification FAILED in {failed} of {fanouts.Count + idles.Count} runs** (see the last column below)."));
        md.AppendLine(string.Create(inv,
            $"Votes: {fanouts.Sum(r => r.VotesAcked):N0} acknowledged, {fanouts.Sum(r => r.VoteErrors):N0} non-201, {fanouts.Sum(r => r.VotesUnanswered):N0} unanswered; sends more than 5 ms behind schedule: {fanouts.Sum(r => r.LateSends):N0} (latest {(fanouts.Count == 0 ? 0 : fanouts.Max(r => r.MaxSendLatenessMs)):0.0} ms)."));
        if (fanouts.Count > 0)
        {
            md.AppendLine(string.Create(inv,
                $"Noise: other processes used a median {M(fanouts, r => r.OtherCpuSeconds):0.00} CPU-s per fan-out window (most {fanouts.Max(r => r.OtherCpuSeconds):0.00}); iowait a median {M(fanouts, r => r.IoWaitSeconds):0.00} s."));
        }

        md.AppendLine();
        md.AppendLine("Every run, in order:");
        md.AppendLine();
        if (fanouts.Count > 0)
        {
            md.AppendLine("| # | workload | transport | connect s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | pairs | ack p99 ms | late sends | messages/s | server CPU-s | load-gen CPU-s | other CPU-s | server RSS before / watching / after MiB | load-gen RSS MiB | verified |");
            md.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|");
            var n = 0;
            foreach (var r in fanouts)
            {
                md.AppendLine(string.Create(inv,
                    $"| {++n} | {r.Watchers:N0} × {r.Rate:N0}/s | {r.Transport} | {r.ConnectSeconds:0.0} | {r.P50Ms:0.00} | {r.P90Ms:0.00} | {r.P99Ms:0.00} | {r.P999Ms:0.00} | {r.MaxMs:0.00} | {r.Pairs:N0} | {r.AckP99Ms:0.00} | {r.LateSends} | {r.MessagesPerSecond:N0} | {r.ServerCpuSeconds:0.00} | {r.LoadGenCpuSeconds:0.00} | {r.OtherCpuSeconds:0.00} | {r.ServerRssBeforeMiB:0} / {r.ServerRssWatchingMiB:0} / {r.ServerRssAfterMiB:0} | {r.LoadGenRssMiB:0} | {(r.Verified ? "yes" : "**NO: " + r.Problem + "**")} |"));
            }

            md.AppendLine();
        }

        if (idles.Count > 0)
        {
            md.AppendLine("| # | idle | transport | watchers | connect s | first connect failure | server RSS before / idle / after full GC / after close MiB | RSS KiB/watcher | heap before / idle MiB | heap KiB/watcher | GC handles/watcher | wake p50 / p99 / max ms | verified |");
            md.AppendLine("|---:|---|---|---:|---:|---|---|---:|---|---:|---:|---|---|");
            var n = 0;
            foreach (var r in idles)
            {
                md.AppendLine(string.Create(inv,
                    $"| {++n} | cap {r.Cap:N0}, {r.Polls} polls | {r.Transport} | {r.Watchers:N0} | {r.ConnectSeconds:0.0} | {r.FirstConnectProblem ?? "none"} | {r.ServerRssBeforeMiB:0} / {r.ServerRssIdleMiB:0} / {r.ServerRssAfterGcMiB:0} / {r.ServerRssAfterCloseMiB:0} | {r.KiBPerWatcher:0.00} | {r.ServerHeapBeforeMiB:0.0} / {r.ServerHeapIdleMiB:0.0} | {r.HeapKiBPerWatcher:0.00} | {r.GcHandlesPerWatcher:0.0} | {r.WakeP50Ms:0.0} / {r.WakeP99Ms:0.0} / {r.WakeMaxMs:0.0} | {(r.Verified ? "yes" : "**NO: " + r.Problem + "**")} |"));
            }
        }

        return md.ToString();
    }

    /// <summary>The load generator's CPU per message received; "—" when so few arrived that its fixed costs (HTTP votes, timers) dominate.</summary>
    private static string PerMessage(List<FanoutResult> runs) => runs.All(r => r.MessagesPerSecond >= 100)
        ? M(runs, r => r.LoadGenCpuSeconds * 1e6 / (r.MessagesPerSecond * r.DurationSeconds)).ToString("0.0", CultureInfo.InvariantCulture)
        : "—";

    private static double M<T>(List<T> runs, Func<T, double> metric)
    {
        var sorted = runs.Select(metric).Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
