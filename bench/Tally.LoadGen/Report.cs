using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// <c>report --dir D</c>: reads every run's JSON in D and prints markdown: medians per scenario and
/// target, the goals, and every run, so a reader can see the spread behind each median.
/// </summary>
internal static class Report
{
    /// <summary>Single-vote ingest must reach this share of the ceiling.</summary>
    private const double SingleGoalRatio = 0.5;

    /// <summary>Batch ingest must reach this many durable votes per second.</summary>
    private const double BatchGoalVotesPerSecond = 200_000;

    public static int Run(string[] args)
    {
        if (args.Length != 2 || args[0] != "--dir")
        {
            throw new ArgumentException("usage: report --dir <folder of run JSON files>");
        }

        var runs = Directory.GetFiles(args[1], "*.json")
            .Order(StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize(File.ReadAllText(f), LoadGenJsonContext.Default.RunResult)!)
            .OrderBy(r => r.StartedAt)
            .ToList();
        if (runs.Count == 0)
        {
            throw new ArgumentException($"No run JSON in {args[1]}.");
        }

        Console.Write(Render(runs));
        return runs.All(r => r.Verified != false) ? 0 : 3;
    }

    private static string Render(List<RunResult> runs)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine("| scenario | Tally votes/s | ceiling votes/s | Tally ÷ ceiling | Tally p50 / p99 ms | ceiling p50 / p99 ms | Tally server CPU-s | ceiling server CPU-s | Tally server CPU µs/vote | ceiling server CPU µs/vote |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var goals = new List<string>();
        foreach (var group in runs.GroupBy(r => (r.Scenario, r.Batch, r.Concurrency)))
        {
            var tally = group.Where(r => r.Target == "tally").ToList();
            var ceiling = group.Where(r => r.Target == "ceiling").ToList();
            var name = group.Key.Scenario == Scenarios.IngestSingle
                ? $"single vote, c={group.Key.Concurrency}"
                : $"batch of {group.Key.Batch:N0}, c={group.Key.Concurrency}";
            var tallyRate = Median(tally, r => r.VotesPerSecond);
            var ceilingRate = Median(ceiling, r => r.VotesPerSecond);
            var ratio = tallyRate is { } t && ceilingRate is { } c && c > 0 ? t / c : (double?)null;
            md.AppendLine(string.Create(inv,
                $"| {name} | {Rate(tallyRate)} | {Rate(ceilingRate)} | {(ratio is { } x ? x.ToString("0.00", inv) + "×" : "—")} | {Latency(tally)} | {Latency(ceiling)} | {Cpu(tally)} | {Cpu(ceiling)} | {CpuPerVote(tally)} | {CpuPerVote(ceiling)} |"));

            if (group.Key.Scenario == Scenarios.IngestSingle && ratio is { } singleRatio)
            {
                goals.Add(string.Create(inv,
                    $"- single-vote ingest ≥ {SingleGoalRatio:0.0}× the ceiling: **{(singleRatio >= SingleGoalRatio ? "met" : "not met")}** ({singleRatio:0.00}×)"));
            }
            else if (group.Key.Scenario == Scenarios.IngestBatch && tallyRate is { } batchRate)
            {
                goals.Add(string.Create(inv,
                    $"- batch ingest ({group.Key.Batch:N0} a request) ≥ {BatchGoalVotesPerSecond:N0} durable votes/s: **{(batchRate >= BatchGoalVotesPerSecond ? "met" : "not met")}** ({batchRate:N0}/s)"));
            }
        }

        md.AppendLine();
        md.AppendLine("Medians over the runs of each row (p50 and p99 are the medians of each run's percentile). CPU-s: the server process's user + system CPU seconds inside the measured window; µs/vote: those divided by the votes acknowledged in the window.");
        md.AppendLine();
        md.AppendLine("Goals:");
        md.AppendLine();
        foreach (var goal in goals)
        {
            md.AppendLine(goal);
        }

        var tallyRuns = runs.Where(r => r.Target == "tally").ToList();
        var failed = tallyRuns.Count(r => r.Verified == false);
        md.AppendLine();
        md.AppendLine(failed == 0
            ? string.Create(inv, $"Verification: in all {tallyRuns.Count} Tally runs the server's totals equal the votes it acknowledged ({tallyRuns.Sum(r => r.AckedVotes):N0} votes in all).")
            : string.Create(inv, $"**Verification FAILED in {failed} of {tallyRuns.Count} Tally runs: the server's totals differ from the votes it acknowledged.**"));
        md.AppendLine(string.Create(inv,
            $"Errors over all runs: {runs.Sum(r => r.Overloaded):N0} × 503, {runs.Sum(r => r.Errors):N0} other non-2xx, {runs.Sum(r => r.Indeterminate):N0} unanswered, {runs.Sum(r => r.RejectedVotes):N0} votes not counted inside 2xx answers."));

        var cores = ProcessStats.MachineCores();
        md.AppendLine(string.Create(inv,
            $"Noise: other processes on the machine used a median {Median(runs, r => r.OtherCpuSeconds):0.00} CPU-s per run (most {runs.Max(r => r.OtherCpuSeconds):0.00}) of the {cores} × {runs[0].DurationSeconds:0.#} s a run's window offers; iowait a median {Median(runs, r => r.IoWaitSeconds):0.00} s."));
        md.AppendLine();
        md.AppendLine("Every run, in order:");
        md.AppendLine();
        md.AppendLine("| # | scenario | target | votes/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | server CPU-s | load-gen CPU-s | other CPU-s | iowait s | server peak RSS MiB | 503 | errors | verified |");
        md.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var n = 0;
        foreach (var r in runs)
        {
            var scenario = r.Scenario == Scenarios.IngestSingle ? "single" : $"batch {r.Batch}";
            var verified = r.Verified switch
            {
                true => string.Create(inv, $"{r.AckedVotes:N0} = {r.CountedByServer:N0}"),
                false => string.Create(inv, $"**NO: {r.AckedVotes:N0} ≠ {r.CountedByServer:N0}**"),
                null => "—",
            };
            md.AppendLine(string.Create(inv,
                $"| {++n} | {scenario} | {r.Target} | {r.VotesPerSecond:N0} | {r.P50Ms:0.00} | {r.P90Ms:0.00} | {r.P99Ms:0.00} | {r.P999Ms:0.00} | {r.MaxMs:0.00} | {r.ServerCpuSeconds:0.00} | {r.LoadGenCpuSeconds:0.00} | {r.OtherCpuSeconds:0.00} | {r.IoWaitSeconds:0.00} | {r.ServerPeakRssMiB:0} | {r.Overloaded} | {r.Errors + r.Indeterminate} | {verified} |"));
        }

        return md.ToString();
    }

    internal static double? Median(List<RunResult> runs, Func<RunResult, double> metric)
    {
        if (runs.Count == 0)
        {
            return null;
        }

        var sorted = runs.Select(metric).Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static string CpuPerVote(List<RunResult> runs) =>
        Median(runs, r => r.ServerCpuSeconds is { } cpu && r.VotesPerSecond > 0 ? cpu * 1e6 / (r.VotesPerSecond * r.DurationSeconds) : double.NaN) is { } us && !double.IsNaN(us)
            ? us.ToString("0.0", CultureInfo.InvariantCulture)
            : "—";

    private static string Rate(double? rate) => rate is { } r ? r.ToString("N0", CultureInfo.InvariantCulture) : "—";

    private static string Latency(List<RunResult> runs) => runs.Count == 0
        ? "—"
        : string.Create(CultureInfo.InvariantCulture, $"{Median(runs, r => r.P50Ms):0.00} / {Median(runs, r => r.P99Ms):0.00}");

    private static string Cpu(List<RunResult> runs) => Median(runs, r => r.ServerCpuSeconds ?? double.NaN) is { } cpu && !double.IsNaN(cpu)
        ? cpu.ToString("0.0", CultureInfo.InvariantCulture)
        : "—";
}
