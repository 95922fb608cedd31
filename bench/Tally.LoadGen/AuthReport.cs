using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// <c>report-auth --dir D</c>: markdown of the <c>ingest-auth</c> runs in D (<c>bench/auth.sh</c>): per votes-per-token,
/// each credential mode's votes/s and server CPU per vote as ratios of the same run's unauthenticated votes, the goal,
/// and every run.
/// </summary>
internal static class AuthReport
{
    /// <summary>An RS256 voter token's vote may cost at most this many times an unauthenticated one (validated tokens cached).</summary>
    private const double GoalRatio = 1.15;

    public static int Run(string[] args)
    {
        if (args.Length != 2 || args[0] != "--dir")
        {
            throw new ArgumentException("usage: report-auth --dir <folder of run JSON files>");
        }

        var runs = Directory.GetFiles(args[1], "*.json")
            .Select(f => JsonSerializer.Deserialize(File.ReadAllText(f), LoadGenJsonContext.Default.RunResult)!)
            .Where(r => r.Scenario == Scenarios.IngestAuth)
            .OrderBy(r => r.StartedAt)
            .ToList();
        if (runs.Count == 0)
        {
            throw new ArgumentException($"No ingest-auth run JSON in {args[1]}.");
        }

        Console.Write(Render(runs));
        return runs.All(r => r.Verified == true) ? 0 : 3;
    }

    private static string Render(List<RunResult> runs)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var goals = new List<string>();
        foreach (var group in runs.GroupBy(r => r.VotesPerToken ?? 1).OrderBy(g => g.Key))
        {
            var n = group.Key;
            md.AppendLine(n == 1
                ? "**One vote per token** (every request carries a credential the server has not seen: a token's signature is checked on every vote; the worst case):"
                : string.Create(inv, $"**{n} votes per token** (each voter votes on {n} polls with one token: checked once, then found in the cache {n - 1} times):"));
            md.AppendLine();
            md.AppendLine("| credential | votes/s | ÷ none | server CPU µs/vote | ÷ none | p50 / p99 ms | load-gen CPU-s | runs |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            var none = group.Where(r => r.Auth == "none").ToList();
            var noneRate = Report.Median(none, r => r.VotesPerSecond);
            var noneCpu = Report.Median(none, CpuPerVote);
            foreach (var mode in AuthSetup.Modes)
            {
                var these = group.Where(r => r.Auth == mode).ToList();
                if (these.Count == 0)
                {
                    continue;
                }

                var rate = Report.Median(these, r => r.VotesPerSecond)!.Value;
                var cpu = Report.Median(these, CpuPerVote)!.Value;
                var rateRatio = noneRate is > 0 ? rate / noneRate.Value : double.NaN;
                var cpuRatio = noneCpu is > 0 ? cpu / noneCpu.Value : double.NaN;
                md.AppendLine(string.Create(inv,
                    $"| {Describe(mode)} | {rate:N0} | {rateRatio:0.00}× | {cpu:0.0} | {cpuRatio:0.00}× | {Report.Median(these, r => r.P50Ms):0.00} / {Report.Median(these, r => r.P99Ms):0.00} | {Report.Median(these, r => r.LoadGenCpuSeconds):0.00} | {these.Count} |"));
                if (mode == "rs256" && !double.IsNaN(cpuRatio))
                {
                    goals.Add(string.Create(inv,
                        $"- an RS256 voter token's vote costs ≤ {GoalRatio:0.00}× an unauthenticated one, {(n == 1 ? "one vote per token (no cache hit; not the goal's case, reported for the worst case)" : $"{n} votes per token")}: "
                        + $"**{(n == 1 ? "—" : cpuRatio <= GoalRatio ? "met" : "not met")}** ({cpuRatio:0.00}× the server CPU per vote; {1 / rateRatio:0.00}× the time per vote at the same concurrency)"));
                }
            }

            md.AppendLine();
        }

        md.AppendLine("Medians over the runs of each row. µs/vote: the server's CPU seconds inside the measured window (user + system, /proc) over the votes acknowledged in it. "
            + "÷ none: the ratio to the same run's votes with no credential (the body's voterId, contract v1).");
        md.AppendLine();
        md.AppendLine("Goal:");
        md.AppendLine();
        foreach (var goal in goals)
        {
            md.AppendLine(goal);
        }

        var failed = runs.Count(r => r.Verified != true);
        md.AppendLine();
        md.AppendLine(failed == 0
            ? string.Create(inv, $"Verification: in all {runs.Count} runs the server's totals equal the votes it acknowledged ({runs.Sum(r => r.AckedVotes):N0} votes in all).")
            : string.Create(inv, $"**Verification FAILED in {failed} of {runs.Count} runs.**"));
        md.AppendLine(string.Create(inv,
            $"Errors over all runs: {runs.Sum(r => r.Overloaded):N0} × 503, {runs.Sum(r => r.Errors):N0} other non-2xx, {runs.Sum(r => r.Indeterminate):N0} unanswered."));
        var ranOut = runs.Count(r => r.VotersRanOut == true);
        if (ranOut > 0)
        {
            md.AppendLine(string.Create(inv, $"In {ranOut} run(s) the prepared voters ran out before the window ended: their votes/s is understated (their CPU per vote is not)."));
        }

        md.AppendLine();
        md.AppendLine("Every run, in order:");
        md.AppendLine();
        md.AppendLine("| # | credential | votes/token | votes/s | p50 ms | p99 ms | server CPU-s | µs/vote | load-gen CPU-s | other CPU-s | server peak RSS MiB | errors | verified |");
        md.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var i = 0;
        foreach (var r in runs)
        {
            md.AppendLine(string.Create(inv,
                $"| {++i} | {r.Auth} | {r.VotesPerToken} | {r.VotesPerSecond:N0}{(r.VotersRanOut == true ? " (ran out)" : "")} | {r.P50Ms:0.00} | {r.P99Ms:0.00} | {r.ServerCpuSeconds:0.00} | {CpuPerVote(r):0.0} | {r.LoadGenCpuSeconds:0.00} | {r.OtherCpuSeconds:0.00} | {r.ServerPeakRssMiB:0} | {r.Errors + r.Overloaded + r.Indeterminate} | {(r.Verified == true ? "yes" : "**NO**")} |"));
        }

        return md.ToString();
    }

    private static double CpuPerVote(RunResult r) =>
        r.ServerCpuSeconds is { } cpu && r.VotesPerSecond > 0 ? cpu * 1e6 / (r.VotesPerSecond * r.DurationSeconds) : double.NaN;

    private static string Describe(string mode) => mode switch
    {
        "none" => "none (body voterId)",
        "key" => "API key (votes:write)",
        "hs256" => "HS256 voter token",
        "rs256" => "RS256 voter token (JWKS)",
        "es256" => "ES256 voter token (JWKS)",
        "anon" => "anonymous voter token",
        _ => mode,
    };
}
