using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// <c>report-compare --dir D [--charts C --chart-link L]</c>: reads the runs of one <c>bench/run.sh</c> (ingest-*.json,
/// fanout-*.json) and prints markdown: Tally ÷ baseline ratios from medians of the same run, the goals, and every run with
/// the CPU other processes took in its window. Charts (PNG) go to C and are linked as L/name.png.
/// </summary>
internal static class CompareReport
{
    /// <summary>Single-vote ingest should reach this share of the ceiling's throughput (until 2026-12-02 the report judged against 0.6×, an older goal).</summary>
    private const double IngestGoalRatio = 0.7;

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var values = LoadArgs.Pairs(args);
        LoadArgs.RejectUnknown(values, "dir", "charts", "chart-link");
        var dir = values.GetValueOrDefault("dir") ?? throw new ArgumentException("usage: report-compare --dir D [--charts C --chart-link L]");
        var ingests = Read(dir, "ingest-*.json", LoadGenJsonContext.Default.RunResult);
        var fanouts = Read(dir, "fanout-*.json", LoadGenJsonContext.Default.FanoutResult);
        var idles = Read(dir, "idle-*.json", LoadGenJsonContext.Default.IdleResult);
        if (ingests.Count + fanouts.Count + idles.Count == 0)
        {
            throw new ArgumentException($"No ingest-*.json, fanout-*.json or idle-*.json in {dir}.");
        }

        var charts = values.GetValueOrDefault("charts");
        var link = values.GetValueOrDefault("chart-link") ?? charts;
        Console.Write(Render(ingests, fanouts, idles, charts, link));
        return 0;
    }

    private static List<T> Read<T>(string dir, string pattern, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        [.. Directory.GetFiles(dir, pattern).Order(StringComparer.Ordinal).Select(f => JsonSerializer.Deserialize(File.ReadAllText(f), type)!)];

    private static string Render(List<RunResult> ingests, List<FanoutResult> fanouts, List<IdleResult> idles, string? charts, string? link)
    {
        var md = new StringBuilder();
        var verdicts = new List<string>();
        if (charts is not null)
        {
            Directory.CreateDirectory(charts);
        }

        // How busy the machine was: the share of all cores that other processes took in each run's measured window.
        var busy = ingests.Select(r => r.OtherCpuSeconds / r.DurationSeconds)
            .Concat(fanouts.Select(r => r.OtherCpuSeconds / r.DurationSeconds))
            .Select(cores => cores / ProcessStats.MachineCores())
            .ToList();
        md.AppendLine(string.Create(s_inv,
            $"**Noise:** other processes took a median {M(busy, x => x) * 100:0}% of the machine's {ProcessStats.MachineCores()} cores in the runs' measured windows (least {busy.Min() * 100:0}%, most {busy.Max() * 100:0}%). A quiet machine is under 5%."));
        md.AppendLine();
        if (ingests.Count > 0)
        {
            RenderIngest(md, ingests, verdicts, charts, link);
        }

        if (fanouts.Count > 0)
        {
            RenderFanout(md, fanouts, verdicts, charts, link);
        }

        if (idles.Count > 0)
        {
            RenderIdle(md, idles, verdicts);
        }

        md.AppendLine("### Verdicts against the issue's goals");
        md.AppendLine();
        foreach (var verdict in verdicts)
        {
            md.AppendLine(verdict);
        }

        md.AppendLine();
        md.AppendLine("### Where Tally loses in this run");
        md.AppendLine();
        var losses = Losses(ingests, fanouts);
        losses.AddRange(IdleLosses(idles));
        md.AppendLine(losses.Count == 0 ? "Nowhere: on every figure above Tally is at least as good as every baseline." : string.Join(Environment.NewLine, losses));

        md.AppendLine();
        RenderRuns(md, ingests, fanouts);
        RenderIdleRuns(md, idles);
        return md.ToString();
    }

    private static void RenderIdle(StringBuilder md, List<IdleResult> runs, List<string> verdicts)
    {
        md.AppendLine("### Idle watchers: server memory per watcher");
        md.AppendLine();
        md.AppendLine("| server | runs | watchers connected | **server RSS KiB per idle watcher** (median, least–most) | managed heap KiB per watcher | RSS after a full GC, KiB per watcher | Tally ÷ this: RSS per watcher | server CPU-s while idle | wake p99 ms | verified runs |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var tally = runs.Where(r => r.Target == WatchTargets.Tally).ToList();
        var tallyKiB = tally.Count == 0 ? double.NaN : M(tally, r => r.KiBPerWatcher ?? double.NaN);
        foreach (var target in runs.GroupBy(r => TargetName(r.Target)).OrderBy(g => TargetOrder(g.First().Target)))
        {
            var r = target.ToList();
            var kib = M(r, x => x.KiBPerWatcher ?? double.NaN);
            var heap = r.Any(x => x.HeapKiBPerWatcher is not null) ? M(r, x => x.HeapKiBPerWatcher ?? double.NaN).ToString("0.0", s_inv) : "—";
            var afterGc = r.Any(x => x.ServerRssAfterGcMiB is not null) ? M(r, AfterGcKiB).ToString("0.0", s_inv) : "—";
            md.AppendLine(string.Create(s_inv,
                $"| {target.Key} | {r.Count} | {N(M(r, x => x.Watchers))} | **{kib:0.0}** ({r.Min(x => x.KiBPerWatcher ?? double.NaN):0.0}–{r.Max(x => x.KiBPerWatcher ?? double.NaN):0.0}) | {heap} | {afterGc} | {(r[0].Target == WatchTargets.Tally ? "—" : X(tallyKiB / kib))} | {M(r, x => x.ServerIdleCpuSeconds ?? double.NaN):0.00} in {M(r, x => x.IdleSeconds):0} s | {M(r, x => x.WakeP99Ms):0.0} | {r.Count(x => x.Verified)}/{r.Count} |"));
        }

        md.AppendLine();
        md.AppendLine("Each run on a fresh server: a few watchers first (so lazy start-up costs are paid), then up to the cap spread over 4 polls, sitting idle for the run's time. RSS per watcher: (server RSS with the watchers idle − RSS before they connected) ÷ watchers: what an operator sees. Managed heap (.NET servers only): the GC heap right after a full collection the load generator asks for over the diagnostics port, before and with the watchers — live objects and the free space between them. RSS after a full GC: the same difference read once that collection has run. Wake: one vote per poll afterwards, vote sent → each watcher has it.");
        md.AppendLine();
        var socketIo = runs.Where(r => r.Target == WatchTargets.SocketIo).ToList();
        if (tally.Count > 0 && socketIo.Count > 0)
        {
            var s = M(socketIo, x => x.KiBPerWatcher ?? double.NaN);
            verdicts.Add(string.Create(s_inv,
                $"- An idle WebSocket watcher costs Tally less server memory than a Socket.IO one — **{(tallyKiB < s ? "met" : "not met")}**: {tallyKiB:0.0} KiB against {s:0.0} KiB RSS per watcher ({X(tallyKiB / s)}) at {N(M(tally, x => x.Watchers))} watchers."));
        }
    }

    private static List<string> IdleLosses(List<IdleResult> runs)
    {
        var tally = runs.Where(r => r.Target == WatchTargets.Tally).ToList();
        if (tally.Count == 0)
        {
            return [];
        }

        var t = M(tally, r => r.KiBPerWatcher ?? double.NaN);
        return [.. runs.Where(r => r.Target != WatchTargets.Tally).GroupBy(r => TargetName(r.Target))
            .Select(g => (Name: g.Key, KiB: M(g.ToList(), r => r.KiBPerWatcher ?? double.NaN)))
            .Where(b => b.KiB < t)
            .Select(b => string.Create(s_inv, $"- Idle watchers: {b.Name} keeps less server memory per watcher — {b.KiB:0.0} KiB against Tally's {t:0.0} KiB RSS."))];
    }

    private static void RenderIdleRuns(StringBuilder md, List<IdleResult> runs)
    {
        if (runs.Count == 0)
        {
            return;
        }

        md.AppendLine("| # | idle | server | watchers | connect s | server RSS before / idle / after full GC / after close MiB | RSS KiB/watcher | heap before / idle MiB | heap KiB/watcher | idle CPU-s | wake p50 / p99 ms | verified |");
        md.AppendLine("|---:|---|---|---:|---:|---|---:|---|---:|---:|---:|---|");
        var n = 0;
        foreach (var r in runs.OrderBy(r => r.StartedAt))
        {
            md.AppendLine(string.Create(s_inv,
                $"| {++n} | cap {r.Cap:N0}, {r.Polls} polls | {TargetName(r.Target)} | {r.Watchers:N0} | {r.ConnectSeconds:0.0} | {Mib(r.ServerRssBeforeMiB)} / {Mib(r.ServerRssIdleMiB)} / {Mib(r.ServerRssAfterGcMiB)} / {Mib(r.ServerRssAfterCloseMiB)} | {r.KiBPerWatcher:0.00} | {Mib(r.ServerHeapBeforeMiB)} / {Mib(r.ServerHeapIdleMiB)} | {(r.HeapKiBPerWatcher is { } h ? h.ToString("0.00", s_inv) : "—")} | {r.ServerIdleCpuSeconds:0.00} | {r.WakeP50Ms:0.0} / {r.WakeP99Ms:0.0} | {(r.Verified ? "yes" : "no: " + Trim(r.Problem))} |"));
        }

        md.AppendLine();
    }

    private static double AfterGcKiB(IdleResult r) =>
        r.ServerRssAfterGcMiB is { } after && r.ServerRssBeforeMiB is { } before && r.Watchers > 0 ? (after - before) * 1024 / r.Watchers : double.NaN;

    private static string Mib(double? mib) => mib is { } m ? m.ToString("0", s_inv) : "—";

    private static void RenderIngest(StringBuilder md, List<RunResult> runs, List<string> verdicts, string? charts, string? link)
    {
        md.AppendLine("### Ingest: Tally ÷ KestrelCeiling");
        md.AppendLine();
        md.AppendLine("| scenario | runs | Tally votes/s | ceiling votes/s | **Tally ÷ ceiling** | Tally p50 / p99 ms | ceiling p50 / p99 ms | Tally server CPU µs/vote | ceiling server CPU µs/vote | other CPU-s per window (median / most) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var bars = new List<(string, double)>();
        foreach (var group in runs.GroupBy(r => (r.Scenario, r.Concurrency)))
        {
            var tally = group.Where(r => r.Target == "tally").ToList();
            var ceiling = group.Where(r => r.Target == "ceiling").ToList();
            var name = group.Key.Scenario switch
            {
                Scenarios.IngestSingle => $"HTTP single votes, c={group.Key.Concurrency}",
                Scenarios.IngestWs => $"WebSocket `vote` op, {group.Key.Concurrency} sockets",
                _ => $"{group.Key.Scenario}, c={group.Key.Concurrency}",
            };
            var t = M(tally, r => r.VotesPerSecond);
            var c = M(ceiling, r => r.VotesPerSecond);
            var ratio = t / c;
            md.AppendLine(string.Create(s_inv,
                $"| {name} | {tally.Count} + {ceiling.Count} | {N(t)} | {N(c)} | **{X(ratio)}** | {M(tally, r => r.P50Ms):0.00} / {M(tally, r => r.P99Ms):0.00} | {Ms2(ceiling, r => r.P50Ms, r => r.P99Ms)} | {M(tally, PerVote):0.0} | {(ceiling.Count == 0 ? "—" : M(ceiling, PerVote).ToString("0.0", s_inv))} | {M(group.ToList(), r => r.OtherCpuSeconds):0.00} / {group.Max(r => r.OtherCpuSeconds):0.00} |"));
            bars.Add(($"Tally {Short(group.Key.Scenario)}", t));
            if (ceiling.Count > 0)
            {
                bars.Add(($"ceiling {Short(group.Key.Scenario)}", c));
                verdicts.Add(string.Create(s_inv,
                    $"- Ingest ({name}) ≥ {IngestGoalRatio:0.0}× the ceiling: **{(ratio >= IngestGoalRatio ? "met" : "not met")}** — {ratio.ToString(Math.Abs(ratio - IngestGoalRatio) < 0.01 ? "0.000" : "0.00", s_inv)}× ({N(t)} vs {N(c)} votes/s; every Tally vote fsynced before its answer, the ceiling keeps nothing)."));
            }
        }

        md.AppendLine();
        md.AppendLine("µs/vote: the server's user + system CPU in the measured window ÷ votes acknowledged in it. Each server is pinned to its own core and the load generator to the other (bench/lib.sh); CPU per vote compares the servers alone.");
        md.AppendLine();
        if (charts is not null)
        {
            CompareCharts.Bars(Path.Combine(charts, "ingest.png"), "Ingest: acknowledged votes per second (median)", "votes/s", bars);
            md.AppendLine($"![ingest throughput]({link}/ingest.png)");
            md.AppendLine();
        }
    }

    private static void RenderFanout(StringBuilder md, List<FanoutResult> runs, List<string> verdicts, string? charts, string? link)
    {
        md.AppendLine("### Fan-out: Tally against SignalR, Socket.IO and the bare Kestrel broadcaster");
        md.AppendLine();
        md.AppendLine("N watchers of one poll, votes over HTTP at a fixed rate; latency is vote sent → watcher received on the load generator's clock, over every (vote, watcher) pair. **Updates/CPU-s**: updates delivered in the window (messages that moved a watcher to a newer seq, over all watchers) ÷ the server's CPU-s in the window. Ratios are Tally ÷ baseline: above 1 Tally does more per CPU-second; for p99 below 1 Tally is faster.");
        md.AppendLine();
        foreach (var workload in runs.GroupBy(r => (r.Watchers, r.Rate, r.Polls)).OrderBy(g => g.Key.Polls).ThenBy(g => g.Key.Watchers * g.Key.Rate))
        {
            var title = string.Create(s_inv, $"{workload.Key.Watchers:N0} watchers × {workload.Key.Rate:N0} {(workload.Key.Rate == 1 ? "vote" : "votes")}/s{(workload.Key.Polls > 1 ? $" over {workload.Key.Polls:N0} polls" : "")}");
            var byTarget = workload.GroupBy(Label).OrderBy(g => Order(g.First())).ToList();
            var tally = workload.Where(r => r.Target == WatchTargets.Tally).ToList();
            md.AppendLine($"#### {title}");
            md.AppendLine();
            md.AppendLine("| server | runs | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | updates/s delivered | server CPU-s | **updates per server CPU-s** | Tally ÷ this: updates/CPU-s | Tally ÷ this: p99 | load-gen CPU-s | other CPU-s | stale msgs | verified runs |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var tallyEff = tally.Count == 0 ? double.NaN : M(tally, Efficiency);
            var tallyP99 = tally.Count == 0 ? double.NaN : M(tally, r => r.P99Ms);
            foreach (var target in byTarget)
            {
                var r = target.ToList();
                var isTally = r[0].Target == WatchTargets.Tally;
                var eff = M(r, Efficiency);
                var p99 = M(r, x => x.P99Ms);
                md.AppendLine(string.Create(s_inv,
                    $"| {target.Key} | {r.Count} | {M(r, x => x.P50Ms):0.0} | {M(r, x => x.P90Ms):0.0} | {p99:0.0} | {M(r, x => x.P999Ms):0.0} | {M(r, x => x.MaxMs):0.0} | {N(M(r, x => x.UpdatesPerSecond))} | {M(r, x => x.ServerCpuSeconds ?? double.NaN):0.00} | **{N(eff)}** | {(isTally ? "—" : X(tallyEff / eff))} | {(isTally ? "—" : X(tallyP99 / p99))} | {M(r, x => x.LoadGenCpuSeconds):0.00} | {M(r, x => x.OtherCpuSeconds):0.00} | {r.Sum(x => x.StaleMessages):N0} | {r.Count(x => x.Verified)}/{r.Count} |"));
            }

            md.AppendLine();
            Verdicts(verdicts, title, tally, byTarget);
            if (charts is not null)
            {
                var slug = string.Create(s_inv, $"{workload.Key.Watchers}x{workload.Key.Rate}{(workload.Key.Polls > 1 ? $"-{workload.Key.Polls}polls" : "")}");
                CompareCharts.PercentileCurves(Path.Combine(charts, $"latency-{slug}.png"), $"Vote → watcher latency, {title} (median run by p99)",
                    [.. byTarget.Select(g => (g.Key, (IReadOnlyList<CurvePoint>)MedianRun(g.ToList()).Curve))]);
                CompareCharts.Bars(Path.Combine(charts, $"efficiency-{slug}.png"), $"Updates delivered per server CPU-second, {title} (median)", "updates / CPU-s",
                    [.. byTarget.Select(g => (g.Key, M(g.ToList(), Efficiency)))]);
                md.AppendLine($"![latency percentiles, {title}]({link}/latency-{slug}.png)");
                md.AppendLine($"![updates per CPU-second, {title}]({link}/efficiency-{slug}.png)");
                md.AppendLine();
            }
        }

        md.AppendLine("Verified: every watcher ended at the seq `GET /results` served with exactly its counts, and no (vote, watcher) pair went undelivered, within the drain time after the last vote. A baseline that fell behind (the naive ones under load) fails that check; its percentiles then cover only the pairs that were delivered, so they understate its latency. Stale msgs: a baseline's whole-results messages that arrived after a newer one (sent out of order); Tally's stream never goes back (a run would fail).");
        md.AppendLine();
    }

    private static void Verdicts(List<string> verdicts, string title, List<FanoutResult> tally, List<IGrouping<string, FanoutResult>> byTarget)
    {
        if (tally.Count == 0)
        {
            return;
        }

        var tallyP99 = M(tally, r => r.P99Ms);
        var tallyP50 = M(tally, r => r.P50Ms);
        var tallyEff = M(tally, Efficiency);
        var others = byTarget.Where(g => g.First().Target != WatchTargets.Tally).Select(g => (Name: g.Key, Runs: g.ToList())).ToList();
        if (others.Count == 0)
        {
            return;
        }

        var floor = others.FirstOrDefault(o => o.Runs[0].Target == WatchTargets.NodeWs);
        if (tally[0].Rate <= 1)
        {
            // Quiet: one vote at a time. The goal: the last watcher has the vote within 1.1× the floor's own
            // first-to-last fan-out span plus Tally's durable ack (the floor acknowledges before anything is stored).
            if (floor.Runs is not null)
            {
                var span = M(floor.Runs, r => r.LastWatcherP50Ms - r.FirstWatcherP50Ms);
                var ack = M(tally, r => r.AckP50Ms);
                var last = M(tally, r => r.LastWatcherP50Ms);
                var bound = 1.1 * span + ack;
                verdicts.Add(string.Create(s_inv,
                    $"- {title}: Tally's last watcher has the vote within 1.1× the Node ws floor's first-to-last span plus Tally's durable ack — **{(last <= bound ? "met" : "not met")}**: last watcher p50 {last:0.0} ms against 1.1 × {span:0.0} + {ack:0.0} = {bound:0.0} ms (Tally's own first-to-last span {M(tally, r => r.LastWatcherP50Ms - r.FirstWatcherP50Ms):0.0} ms)."));
            }

            return;
        }

        if (others.All(o => o.Runs[0].Variant == "naive"))
        {
            foreach (var (name, r) in others)
            {
                var p50 = M(r, x => x.P50Ms);
                var p99 = M(r, x => x.P99Ms);
                var delivered = r.Count(x => x.Verified);
                verdicts.Add(string.Create(s_inv,
                    $"- {title}, Tally against {name}: p50 {tallyP50:0.0} vs {p50:0.0} ms ({p50 / tallyP50:0.0}× lower), p99 {tallyP99:0.0} vs {p99:0.0} ms ({p99 / tallyP99:0.0}× lower), updates per CPU-s {X(tallyEff / M(r, Efficiency))}; {name} delivered everything in {delivered} of {r.Count} runs{(delivered < r.Count ? " (its percentiles cover only what arrived)" : "")}."));
            }

            return;
        }

        // The goals: p90 and p99 below every peer's; server CPU per update no more than the best peer's and no more than
        // 1.25× the Node ws floor's (the floor moves bytes and nothing else, so it is a bound, not a peer).
        var peers = others.Where(o => o.Runs[0].Target != WatchTargets.NodeWs).ToList();
        var tallyP90 = M(tally, r => r.P90Ms);
        foreach (var (label, metric, tallyValue) in new[] { ("p90", (Func<FanoutResult, double>)(x => x.P90Ms), tallyP90), ("p99", x => x.P99Ms, tallyP99) })
        {
            var asLow = peers.Where(o => M(o.Runs, metric) <= tallyValue).Select(o => string.Create(s_inv, $"{o.Name} {M(o.Runs, metric):0.0} ms")).ToList();
            verdicts.Add(string.Create(s_inv,
                $"- {title}: Tally's {label} lower than every peer's — **{(asLow.Count == 0 ? "met" : "not met")}**: Tally {tallyValue:0.0} ms{(asLow.Count == 0 ? "" : "; as low or lower: " + string.Join(", ", asLow))}."));
        }

        if (peers.Count > 0)
        {
            var best = peers.OrderByDescending(o => M(o.Runs, Efficiency)).First();
            var bestEff = M(best.Runs, Efficiency);
            verdicts.Add(string.Create(s_inv,
                $"- {title}: Tally's server CPU per update no higher than the best peer's — **{(tallyEff >= bestEff ? "met" : "not met")}**: Tally {N(tallyEff)} updates per CPU-s, best peer {best.Name} {N(bestEff)} (CPU per update {X(bestEff / tallyEff)} the peer's)."));
        }

        if (floor.Runs is not null)
        {
            var floorEff = M(floor.Runs, Efficiency);
            verdicts.Add(string.Create(s_inv,
                $"- {title}: Tally's server CPU per update ≤ 1.25× the Node ws floor's — **{(floorEff / tallyEff <= 1.25 ? "met" : "not met")}**: {X(floorEff / tallyEff)} ({N(tallyEff)} against {N(floorEff)} updates per CPU-s)."));
        }
    }

    /// <summary>Every figure on which a baseline beats Tally (median against median), said plainly.</summary>
    private static List<string> Losses(List<RunResult> ingests, List<FanoutResult> fanouts)
    {
        var losses = new List<string>();
        foreach (var group in ingests.GroupBy(r => (r.Scenario, r.Concurrency)))
        {
            var tally = group.Where(r => r.Target == "tally").ToList();
            var ceiling = group.Where(r => r.Target == "ceiling").ToList();
            if (tally.Count > 0 && ceiling.Count > 0)
            {
                losses.Add(string.Create(s_inv,
                    $"- Ingest ({group.Key.Scenario}): the ceiling takes {M(ceiling, r => r.VotesPerSecond) / M(tally, r => r.VotesPerSecond):0.00}× Tally's votes/s, and Tally spends {M(tally, PerVote) / M(ceiling, PerVote):0.0}× the ceiling's server CPU per vote (the ceiling keeps nothing; Tally fsyncs each group commit)."));
            }
        }

        foreach (var workload in fanouts.GroupBy(r => (r.Watchers, r.Rate, r.Polls)))
        {
            var tally = workload.Where(r => r.Target == WatchTargets.Tally).ToList();
            if (tally.Count == 0)
            {
                continue;
            }

            var title = string.Create(s_inv, $"{workload.Key.Watchers:N0} × {workload.Key.Rate:N0}/s{(workload.Key.Polls > 1 ? $" over {workload.Key.Polls:N0} polls" : "")}");
            foreach (var target in workload.Where(r => r.Target != WatchTargets.Tally).GroupBy(Label))
            {
                var r = target.ToList();
                var (te, be) = (M(tally, Efficiency), M(r, Efficiency));
                var (tp, bp) = (M(tally, x => x.P99Ms), M(r, x => x.P99Ms));
                var (t50, b50) = (M(tally, x => x.P50Ms), M(r, x => x.P50Ms));
                if (be > te)
                {
                    losses.Add(string.Create(s_inv, $"- {title}: {target.Key} delivers more updates per server CPU-second — {N(be)} against Tally's {N(te)} (Tally {X(te / be)})."));
                }

                if (bp < tp)
                {
                    losses.Add(string.Create(s_inv, $"- {title}: {target.Key} has the lower p99 — {bp:0.0} ms against Tally's {tp:0.0} ms."));
                }

                if (b50 < t50)
                {
                    losses.Add(string.Create(s_inv, $"- {title}: {target.Key} has the lower p50 — {b50:0.0} ms against Tally's {t50:0.0} ms."));
                }
            }
        }

        return losses;
    }

    private static void RenderRuns(StringBuilder md, List<RunResult> ingests, List<FanoutResult> fanouts)
    {
        md.AppendLine("### Every run, in order (with the CPU other processes took in its window)");
        md.AppendLine();
        if (ingests.Count > 0)
        {
            md.AppendLine("| # | ingest | server | votes/s | p50 / p99 ms | server CPU-s | server peak RSS MiB | load-gen CPU-s | other CPU-s | errors / 503 / unanswered | verified |");
            md.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
            var n = 0;
            foreach (var r in ingests.OrderBy(r => r.StartedAt))
            {
                md.AppendLine(string.Create(s_inv,
                    $"| {++n} | {r.Scenario}, c={r.Concurrency} | {r.Target} | {N(r.VotesPerSecond)} | {r.P50Ms:0.00} / {r.P99Ms:0.00} | {r.ServerCpuSeconds:0.00} | {Mib(r.ServerPeakRssMiB)} | {r.LoadGenCpuSeconds:0.00} | {r.OtherCpuSeconds:0.00} | {r.Errors} / {r.Overloaded} / {r.Indeterminate} | {(r.Verified is { } v ? (v ? "yes" : "**NO**") : "—")} |"));
            }

            md.AppendLine();
        }

        if (fanouts.Count > 0)
        {
            md.AppendLine("| # | fan-out | server | connect s | p50 / p99 / max ms | updates/s | server CPU-s | server peak RSS MiB | load-gen CPU-s | other CPU-s | late sends | vote errors / unanswered / unsent | verified |");
            md.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            var n = 0;
            foreach (var r in fanouts.OrderBy(r => r.StartedAt))
            {
                md.AppendLine(string.Create(s_inv,
                    $"| {++n} | {r.Watchers:N0} × {r.Rate:N0}/s | {Label(r)} | {r.ConnectSeconds:0.0} | {r.P50Ms:0.0} / {r.P99Ms:0.0} / {r.MaxMs:0.0} | {N(r.UpdatesPerSecond)} | {r.ServerCpuSeconds:0.00} | {Mib(r.ServerPeakRssMiB)} | {r.LoadGenCpuSeconds:0.00} | {r.OtherCpuSeconds:0.00} | {r.LateSends:N0} | {r.VoteErrors} / {r.VotesUnanswered} / {r.VotesUnsent} | {(r.Verified ? "yes" : "no: " + Trim(r.Problem))} |"));
            }

            md.AppendLine();
        }
    }

    private static double PerVote(RunResult r) => (r.ServerCpuSeconds ?? double.NaN) * 1e6 / (r.VotesPerSecond * r.DurationSeconds);

    private static double Efficiency(FanoutResult r) => r.UpdatesPerSecond * r.DurationSeconds / (r.ServerCpuSeconds ?? double.NaN);

    private static string Label(FanoutResult r) => TargetName(r.Target) + (r.Variant is { } v ? $" ({v})" : "");

    private static int Order(FanoutResult r) => TargetOrder(r.Target);

    private static string TargetName(string target) => target switch
    {
        WatchTargets.Tally => "Tally",
        WatchTargets.Ceiling => "KestrelCeiling",
        WatchTargets.SignalR => "SignalR",
        WatchTargets.SocketIo => "Socket.IO",
        WatchTargets.NodeWs => "Node ws floor",
        _ => target,
    };

    private static int TargetOrder(string target) => target switch
    {
        WatchTargets.Tally => 0,
        WatchTargets.SignalR => 1,
        WatchTargets.SocketIo => 2,
        WatchTargets.Ceiling => 3,
        _ => 4,
    };

    private static string Short(string scenario) => scenario == Scenarios.IngestWs ? "WS" : "HTTP";

    /// <summary>The run whose p99 is the median of the group's (the lower middle one for an even count).</summary>
    private static FanoutResult MedianRun(List<FanoutResult> runs) => runs.OrderBy(r => r.P99Ms).ElementAt((runs.Count - 1) / 2);

    private static string Trim(string? problem) => problem is null ? "" : problem.Length <= 90 ? problem : problem[..90] + "…";

    private static string Ms2(List<RunResult> runs, Func<RunResult, double> a, Func<RunResult, double> b) =>
        runs.Count == 0 ? "—" : string.Create(s_inv, $"{M(runs, a):0.00} / {M(runs, b):0.00}");

    private static string N(double value) => double.IsFinite(value) ? value.ToString("N0", s_inv) : "—";

    private static string X(double ratio) => double.IsFinite(ratio) ? ratio.ToString(ratio >= 10 ? "0" : "0.00", s_inv) + "×" : "—";

    private static double M<T>(List<T> runs, Func<T, double> metric)
    {
        if (runs.Count == 0)
        {
            return double.NaN;
        }

        var sorted = runs.Select(metric).Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
