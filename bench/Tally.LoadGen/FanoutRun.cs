using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using HdrHistogram;

namespace Tally.LoadGen;

/// <summary>
/// <c>fanout</c>: N watchers on one poll while votes arrive over HTTP at a fixed rate. Latency is vote
/// sent → watcher received, from this process's clock, for every (vote, watcher) pair of the measured
/// window: a vote's ack gives its seq, and a watcher saw the vote when it first saw a seq ≥ that one.
/// After the votes every watcher must end with exactly the counts <c>GET /results</c> serves.
/// </summary>
internal static class FanoutRun
{
    /// <summary>The exit code of a run that other processes disturbed past <see cref="WatchArgs.NoiseLimit"/>.</summary>
    public const int NoisyExitCode = 4;

    public static async Task<int> RunAsync(WatchArgs args)
    {
        // Nothing may run past connecting + warm-up + duration + this grace.
        using var hardStop = new CancellationTokenSource(args.ConnectTimeout + args.Warmup + args.Duration + TimeSpan.FromSeconds(90));
        using var apiClient = LoadClient.Create(args.Senders + 2);
        var api = new TallyApi(apiClient, args.Url, args.AdminKey);
        var polls = await CreatePollsAsync(api, args.Polls, hardStop.Token);
        var pollIndex = polls.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        var pid = args.ServerPid;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fanout → {args.Target} {args.Url} over {args.Transport}: {args.Watchers:N0} watchers of {(polls.Count == 1 ? "poll " + polls[0] : $"{polls.Count:N0} polls")}, {args.Rate:N1} votes/s from {args.Senders} senders, warm-up {args.Warmup.TotalSeconds:0.#} s, measured {args.Duration.TotalSeconds:0.#} s"));

        var rssBefore = pid is { } p0 ? await ProcessStats.SettledRssMiBAsync(p0, TimeSpan.FromSeconds(5), hardStop.Token) : (double?)null;
        using var factory = new WatcherFactory(args.Url, args.Transport, args.SourceAddresses, args.Client);
        await using var group = new WatcherGroup(factory);
        var connectSeconds = await LiveProgress.TrackAsync("connecting watchers", args.Watchers, () => group.Watchers.Count,
            group.ConnectAsync(polls, args.Watchers, args.ConnectConcurrency, args.ConnectTimeout, stopAtFirstFailure: false, hardStop.Token));
        if (group.Watchers.Count < args.Watchers)
        {
            throw new InvalidOperationException(
                $"Only {group.Watchers.Count} of {args.Watchers} watchers connected in {connectSeconds:0.0} s ({group.ConnectFailures} failed; first: {group.FirstConnectProblem ?? "none, out of time"}).");
        }

        // Only Tally tells watchers how many there are; the baselines have no presence to settle.
        var perPoll = group.Watchers.GroupBy(w => w.PollId).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var presence = !args.IsTally || await group.WaitForPresenceAsync(poll => perPoll.GetValueOrDefault(poll), args.PresenceTimeout, hardStop.Token);
        var rssWatching = pid is { } p1 ? await ProcessStats.SettledRssMiBAsync(p1, TimeSpan.FromSeconds(5), hardStop.Token) : (double?)null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"connected {group.Watchers.Count:N0} watchers in {connectSeconds:0.0} s{(presence ? "" : $" (presence did not settle within {args.PresenceTimeout.TotalSeconds:0.#} s)")}; server RSS {rssBefore:0.0} → {rssWatching:0.0} MiB"));

        var votes = new PacedVotes(args.MaxVotes);
        var start = Stopwatch.GetTimestamp() + MeasuredWindow.Ticks(TimeSpan.FromMilliseconds(100));
        var window = MeasuredWindow.After(start, args.Warmup, args.Duration);
        var sampler = window.SampleCpuAsync(ProcessStats.ServerCpuReader(pid, args.CpuPids), hardStop.Token, factory.HelperCpu);
        await LiveProgress.TrackAsync("sending votes", args.MaxVotes, () => votes.SentSoFar, votes.RunAsync(apiClient, [.. polls.Select(poll => new Uri(args.Url, $"/v1/polls/{poll}/votes"))], start, args.Rate, args.Senders, window.End + MeasuredWindow.Ticks(TimeSpan.FromSeconds(1)), hardStop.Token));
        var cpu = await sampler;

        // Every watcher must reach the served seq and hold exactly the served counts.
        var served = await ServedAsync(api, polls, HighestAckedSeqs(votes, polls.Count), hardStop.Token);
        var behind = await group.WaitForSeqAsync(poll => served[poll].Seq, args.DrainTimeout, hardStop.Token);
        var problem = CheckAll(group.Watchers, behind, poll => served[poll]);
        var rssAfter = pid is { } p2 ? ProcessStats.RssMiB(p2) : (double?)null;
        var loadGenRss = Environment.WorkingSet / (1024.0 * 1024);
        await group.DisposeAsync(); // stops the read loops: what they saw can be read now

        var latency = new LongHistogram(1, LoopStats.MaxMicroseconds, 3);
        var ack = new LongHistogram(1, LoopStats.MaxMicroseconds, 3);
        var windowVotes = WindowVotes(votes, polls.Count, window, ack, out var lateSends, out var maxLateness);
        var firstAt = windowVotes.Select(v => new long[v.Count]).ToArray();
        var lastAt = windowVotes.Select(v => new long[v.Count]).ToArray();
        foreach (var f in firstAt)
        {
            Array.Fill(f, long.MaxValue);
        }

        var missing = 0L;
        foreach (var watcher in group.Watchers)
        {
            var p = pollIndex[watcher.PollId];
            missing += Record(windowVotes[p], watcher.Seen, latency, firstAt[p], lastAt[p]);
        }

        // Per vote: its first watcher (the server's path to the first socket) and its last (the whole fan-out).
        var first = new LongHistogram(1, LoopStats.MaxMicroseconds, 3);
        var last = new LongHistogram(1, LoopStats.MaxMicroseconds, 3);
        for (var p = 0; p < windowVotes.Length; p++)
        {
            for (var i = 0; i < windowVotes[p].Count; i++)
            {
                if (lastAt[p][i] > 0)
                {
                    first.RecordValue(Micros(firstAt[p][i] - windowVotes[p][i].SentAt));
                    last.RecordValue(Micros(lastAt[p][i] - windowVotes[p][i].SentAt));
                }
            }
        }

        var messages = group.Watchers.Sum(w => w.MessageTimes.Count(window.Contains));
        var updates = group.Watchers.Sum(w => w.Seen.Count(s => window.Contains(s.At)));
        var seconds = args.Duration.TotalSeconds;
        if (missing > 0)
        {
            problem ??= $"{missing} (vote, watcher) pairs were never delivered";
        }

        var result = new FanoutResult
        {
            Target = args.Target,
            Variant = args.Variant,
            Transport = args.Transport,
            Client = args.Client,
            StartedAt = DateTimeOffset.UtcNow,
            Watchers = group.Watchers.Count,
            Rate = args.Rate,
            Senders = args.Senders,
            WarmupSeconds = args.Warmup.TotalSeconds,
            DurationSeconds = seconds,
            ConnectSeconds = connectSeconds,
            Polls = polls.Count,
            VotesPerSecond = windowVotes.Sum(v => v.Count) / seconds,
            VotesSent = votes.Sent,
            VotesAcked = Enumerable.Range(0, (int)votes.Count).Count(i => votes[i].Seq > 0),
            VoteErrors = votes.Errors,
            VotesUnanswered = votes.Unanswered,
            VotesUnsent = votes.Unsent,
            LateSends = lateSends,
            MaxSendLatenessMs = maxLateness * 1000.0 / Stopwatch.Frequency,
            AckP50Ms = Percentile(ack, 50),
            AckP99Ms = Percentile(ack, 99),
            Pairs = group.Watchers.Sum(w => (long)windowVotes[pollIndex[w.PollId]].Count),
            MissingPairs = missing,
            P50Ms = Percentile(latency, 50),
            P90Ms = Percentile(latency, 90),
            P99Ms = Percentile(latency, 99),
            P999Ms = Percentile(latency, 99.9),
            MaxMs = latency.TotalCount == 0 ? 0 : latency.GetMaxValue() / 1000.0,
            FirstWatcherP50Ms = Percentile(first, 50),
            FirstWatcherP99Ms = Percentile(first, 99),
            LastWatcherP50Ms = Percentile(last, 50),
            LastWatcherP99Ms = Percentile(last, 99),
            MessagesPerSecond = messages / seconds,
            UpdatesPerSecond = updates / seconds,
            Curve = Curve(latency),
            ServerCpuSeconds = cpu.Server,
            LoadGenCpuSeconds = cpu.LoadGen,
            OtherCpuSeconds = cpu.Other,
            IoWaitSeconds = cpu.IoWait,
            ServerRssBeforeMiB = rssBefore,
            ServerRssWatchingMiB = rssWatching,
            ServerRssAfterMiB = rssAfter,
            ServerPeakRssMiB = pid is { } p3 ? ProcessStats.PeakRssMiB(p3) : null,
            KiBPerWatcher = rssBefore is { } b && rssWatching is { } w ? (w - b) * 1024 / group.Watchers.Count : null,
            LoadGenRssMiB = loadGenRss,
            StaleMessages = group.Watchers.Sum(w => w.StaleMessages),
            ServedSeq = served.Values.Max(r => r.Seq),
            ServedTotalVotes = served.Values.Sum(r => r.TotalVotes),
            Verified = problem is null,
            Problem = problem,
        };

        Print(result, votes.FirstProblem);
        if (problem is null && args.NoiseLimit is { } limit && cpu.Other > limit * seconds)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"NOISY: other processes took {cpu.Other:0.00} CPU-s in the {seconds:0.#} s window (more than {limit:0.##} of a core): not recorded."));
            return NoisyExitCode;
        }

        if (args.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, LoadGenJsonContext.Default.FanoutResult));
        }

        if (problem is not null)
        {
            await Console.Error.WriteLineAsync($"VERIFICATION FAILED: {problem}. This run's figures are worthless.");
            return 3;
        }

        return 0;
    }

    /// <summary>Creates the run's polls, 16 requests at a time.</summary>
    private static async Task<List<string>> CreatePollsAsync(TallyApi api, int count, CancellationToken cancellationToken)
    {
        var ids = new string[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, token) => ids[i] = await api.CreatePollAsync($"bench fanout {DateTimeOffset.UtcNow:O} #{i}", token));
        return [.. ids];
    }

    /// <summary>
    /// What <c>GET /results</c> serves for each poll, 16 requests at a time. A poll served below its highest acknowledged
    /// seq is read again, for at most 5 s: a guard for servers behind a load balancer whose nodes answer from a view that
    /// may trail (Tally's cluster nodes did before queries went to the partition's owner). A single server answers at once.
    /// </summary>
    private static async Task<Dictionary<string, ServedResults>> ServedAsync(TallyApi api, List<string> polls, long[] highestAcked, CancellationToken cancellationToken)
    {
        var served = new ServedResults[polls.Count];
        await Parallel.ForAsync(0, polls.Count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var readUntil = Stopwatch.GetTimestamp() + MeasuredWindow.Ticks(TimeSpan.FromSeconds(5));
                served[i] = await api.ResultsAsync(polls[i], token);
                while (served[i].Seq < highestAcked[i] && Stopwatch.GetTimestamp() < readUntil)
                {
                    await Task.Delay(50, token);
                    served[i] = await api.ResultsAsync(polls[i], token);
                }
            });
        return polls.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => served[x.i], StringComparer.Ordinal);
    }

    /// <summary>
    /// The first difference between what the watchers hold and what the server serves, or null. A watcher that did not
    /// reach the served seq, ended its stream early, broke a rule, or holds other counts is a failure.
    /// </summary>
    internal static string? Check(IReadOnlyList<Watcher> watchers, List<Watcher> behind, ServedResults served) =>
        CheckAll(watchers, behind, _ => served);

    internal static string? CheckAll(IReadOnlyList<Watcher> watchers, List<Watcher> behind, Func<string, ServedResults> servedOf)
    {
        var problems = new List<string>();
        if (behind.Count > 0)
        {
            var first = behind[0];
            problems.Add($"{behind.Count} watchers did not reach the served seq {servedOf(first.PollId).Seq} (one is at {first.Seq}{(first.EndedEarly is { } e ? $", its stream ended: {e}" : "")})");
        }

        var ended = watchers.Where(w => w.EndedEarly is not null).ToList();
        if (ended.Count > 0)
        {
            problems.Add($"{ended.Count} watchers' streams ended early (first: {ended[0].EndedEarly})");
        }

        var broken = watchers.Where(w => w.Anomalies > 0).ToList();
        if (broken.Count > 0)
        {
            problems.Add($"{broken.Count} watchers got out-of-order or unexpected messages (first: {broken[0].FirstAnomaly})");
        }

        var wrong = watchers.Where(w => !Matches(w, servedOf(w.PollId))).ToList();
        if (wrong.Count > 0)
        {
            var w = wrong[0];
            var served = servedOf(w.PollId);
            problems.Add($"{wrong.Count} watchers hold counts other than GET /results (one has total {w.TotalVotes} [{w.Count(1)}, {w.Count(2)}, {w.Count(3)}] at seq {w.Seq}; served total {served.TotalVotes} [{served.Counts[1]}, {served.Counts[2]}, {served.Counts[3]}] at seq {served.Seq})");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private static bool Matches(Watcher watcher, ServedResults served)
    {
        if (watcher.TotalVotes != served.TotalVotes || watcher.Seq != served.Seq)
        {
            return false;
        }

        for (var id = 1; id <= Watcher.MaxOptionId; id++)
        {
            if (watcher.Count(id) != served.Counts[id])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Per poll (vote i went to poll i mod <paramref name="polls"/>), the acknowledged votes sent inside the window, ordered
    /// by seq (their ack round trips go into <paramref name="ack"/>), and how many of the window's sends were more than 5 ms
    /// behind schedule, and the latest.
    /// </summary>
    /// <summary>Per poll, the highest seq a vote's ack answered (vote i went to poll i mod polls).</summary>
    private static long[] HighestAckedSeqs(PacedVotes votes, int polls)
    {
        var highest = new long[polls];
        for (long i = 0; i < votes.Count; i++)
        {
            highest[i % polls] = Math.Max(highest[i % polls], votes[i].Seq);
        }

        return highest;
    }

    private static List<(long Seq, long SentAt)>[] WindowVotes(PacedVotes votes, int polls, MeasuredWindow window, LongHistogram ack, out long lateSends, out long maxLateness)
    {
        var late = MeasuredWindow.Ticks(TimeSpan.FromMilliseconds(5));
        var lists = Enumerable.Range(0, polls).Select(_ => new List<(long Seq, long SentAt)>()).ToArray();
        lateSends = maxLateness = 0;
        for (long i = 0; i < votes.Count; i++)
        {
            var (sentAt, lateness, ackedAt, seq) = votes[i];
            if (sentAt > 0 && window.Contains(sentAt))
            {
                lateSends += lateness > late ? 1 : 0;
                maxLateness = Math.Max(maxLateness, lateness);
            }

            if (seq > 0 && window.Contains(sentAt))
            {
                lists[i % polls].Add((seq, sentAt));
                ack.RecordValue(Micros(ackedAt - sentAt));
            }
        }

        foreach (var list in lists)
        {
            list.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        }

        return lists;
    }

    /// <summary>
    /// For each vote, the first time the watcher saw a seq ≥ the vote's (one merge walk), into the histogram and the
    /// per-vote earliest and latest delivery. Returns the votes it never saw.
    /// </summary>
    private static long Record(List<(long Seq, long SentAt)> votes, IReadOnlyList<SeqSeen> seen, LongHistogram latency, long[] firstAt, long[] lastAt)
    {
        var j = 0;
        for (var i = 0; i < votes.Count; i++)
        {
            while (j < seen.Count && seen[j].Seq < votes[i].Seq)
            {
                j++;
            }

            if (j == seen.Count)
            {
                return votes.Count - i;
            }

            latency.RecordValue(Micros(seen[j].At - votes[i].SentAt));
            firstAt[i] = Math.Min(firstAt[i], seen[j].At);
            lastAt[i] = Math.Max(lastAt[i], seen[j].At);
        }

        return 0;
    }

    /// <summary>Percentiles for the report's curves: dense where tails live (90, 99, 99.9 …).</summary>
    private static readonly double[] s_curvePercentiles = [0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 100];

    private static List<CurvePoint> Curve(LongHistogram h) => h.TotalCount == 0
        ? []
        : [.. s_curvePercentiles.Select(p => new CurvePoint(p, (p >= 100 ? h.GetMaxValue() : h.GetValueAtPercentile(p)) / 1000.0))];

    private static long Micros(long ticks) => Math.Clamp(ticks * 1_000_000 / Stopwatch.Frequency, 1, LoopStats.MaxMicroseconds);

    private static double Percentile(LongHistogram h, double percentile) => h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(percentile) / 1000.0;

    private static void Print(FanoutResult r, string? firstVoteProblem)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"votes: {r.VotesPerSecond:N1}/s acked in the window; sent {r.VotesSent:N0}, acked {r.VotesAcked:N0}, errors {r.VoteErrors}, unanswered {r.VotesUnanswered}, not sent (senders too far behind) {r.VotesUnsent}; late sends (>5 ms) {r.LateSends}, latest {r.MaxSendLatenessMs:0.0} ms; ack p50 {r.AckP50Ms:0.###} p99 {r.AckP99Ms:0.###} ms"));
        if (firstVoteProblem is not null)
        {
            Console.WriteLine("first vote problem: " + firstVoteProblem);
        }

        Console.WriteLine(string.Create(inv, $"vote sent → watcher received ms, over {r.Pairs:N0} pairs: p50 {r.P50Ms:0.###}  p90 {r.P90Ms:0.###}  p99 {r.P99Ms:0.###}  p99.9 {r.P999Ms:0.###}  max {r.MaxMs:0.###}"));
        Console.WriteLine(string.Create(inv, $"per vote, its first watcher: p50 {r.FirstWatcherP50Ms:0.###} p99 {r.FirstWatcherP99Ms:0.###} ms; its last watcher: p50 {r.LastWatcherP50Ms:0.###} p99 {r.LastWatcherP99Ms:0.###} ms"));
        Console.WriteLine(string.Create(inv, $"messages delivered: {r.MessagesPerSecond:N0}/s (all watchers){(r.StaleMessages > 0 ? $"; {r.StaleMessages:N0} arrived after a newer one (stale, ignored)" : "")}"));
        Console.WriteLine(string.Create(inv, $"server: {r.ServerCpuSeconds:0.00} CPU-s in {r.DurationSeconds:0.#} s; RSS {r.ServerRssBeforeMiB:0.0} MiB before, {r.ServerRssWatchingMiB:0.0} watching ({r.KiBPerWatcher:0.0} KiB/watcher), {r.ServerRssAfterMiB:0.0} after, peak {r.ServerPeakRssMiB:0.0}"));
        Console.WriteLine(string.Create(inv, $"load generator: {r.LoadGenCpuSeconds:0.00} CPU-s, RSS {r.LoadGenRssMiB:0} MiB; other processes: {r.OtherCpuSeconds:0.00} CPU-s; iowait {r.IoWaitSeconds:0.00} s"));
        Console.WriteLine(r.Verified
            ? string.Create(inv, $"verified: all {r.Watchers:N0} watchers hold the served results (seq {r.ServedSeq}, {r.ServedTotalVotes:N0} votes)")
            : "NOT VERIFIED: " + r.Problem);
    }
}
