using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using HdrHistogram;

namespace Tally.LoadGen;

/// <summary>
/// <c>idle</c>: as many watchers as the machine allows, up to a cap, spread over a few polls, doing
/// nothing. Reads the server's resident memory before and once they sit idle (→ memory per idle
/// watcher), then wakes every poll with one vote and checks that each watcher sees it and ends with
/// the served counts.
/// </summary>
internal static class IdleRun
{
    public static async Task<int> RunAsync(WatchArgs args)
    {
        using var hardStop = new CancellationTokenSource(args.ConnectTimeout + args.Duration + TimeSpan.FromSeconds(150));
        using var apiClient = LoadClient.Create();
        var api = new TallyApi(apiClient, args.Url, args.AdminKey);
        var polls = new List<string>();
        for (var i = 0; i < args.Polls; i++)
        {
            polls.Add(await api.CreatePollAsync($"bench idle {DateTimeOffset.UtcNow:O} #{i}", hardStop.Token));
        }

        var pid = args.ServerPid;
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"idle → {args.Url} over {args.Transport}: up to {args.Watchers:N0} watchers over {polls.Count} polls, {args.SourceAddresses} source address(es)"));

        var rssBefore = pid is { } p0 ? await ProcessStats.SettledRssMiBAsync(p0, TimeSpan.FromSeconds(5), hardStop.Token) : (double?)null;
        var heapBefore = pid is { } g0 ? await GcProbe.CollectAsync(g0, TimeSpan.FromSeconds(30)) : null;
        using var factory = new WatcherFactory(args.Url, args.Transport, args.SourceAddresses, args.Client);
        await using var group = new WatcherGroup(factory);
        var connectSeconds = await LiveProgress.TrackAsync("connecting watchers", args.Watchers, () => group.Watchers.Count,
            group.ConnectAsync(polls, args.Watchers, args.ConnectConcurrency, args.ConnectTimeout, stopAtFirstFailure: true, hardStop.Token));
        var perPoll = group.Watchers.GroupBy(w => w.PollId).ToDictionary(g => g.Key, g => g.Count());
        Console.WriteLine(string.Create(inv, $"connected {group.Watchers.Count:N0} watchers in {connectSeconds:0.0} s{(group.FirstConnectProblem is { } first ? "; stopped at: " + first : "")}"));
        if (group.Watchers.Count == 0)
        {
            throw new InvalidOperationException("No watcher connected: " + group.FirstConnectProblem);
        }

        var presence = !args.IsTally || await group.WaitForPresenceAsync(poll => perPoll.GetValueOrDefault(poll), TimeSpan.FromSeconds(60), hardStop.Token);

        // Idle on purpose for the run's duration (this is the workload, not a wait for a signal), then read the memory.
        var idleStart = pid is { } pc0 ? ProcessStats.CpuSeconds(pc0) : 0;
        await Task.Delay(args.Duration, hardStop.Token);
        var idleCpu = pid is { } pc1 ? ProcessStats.CpuSeconds(pc1) - idleStart : (double?)null;
        var rssIdle = pid is { } p1 ? await ProcessStats.SettledRssMiBAsync(p1, TimeSpan.FromSeconds(5), hardStop.Token) : (double?)null;
        var loadGenRss = Environment.WorkingSet / (1024.0 * 1024);
        var heapIdle = pid is { } g1 ? await GcProbe.CollectAsync(g1, TimeSpan.FromSeconds(30)) : null;
        var rssAfterGc = pid is { } p3 ? await ProcessStats.SettledRssMiBAsync(p3, TimeSpan.FromSeconds(5), hardStop.Token) : (double?)null;

        // Wake each poll with one vote; every watcher must see it.
        var sentAt = new Dictionary<string, long>(StringComparer.Ordinal);
        var seqOf = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var poll in perPoll.Keys)
        {
            sentAt[poll] = Stopwatch.GetTimestamp();
            seqOf[poll] = await api.VoteAsync(poll, 1, hardStop.Token);
        }

        var behind = await group.WaitForSeqAsync(poll => seqOf[poll], TimeSpan.FromSeconds(30), hardStop.Token);
        var served = new Dictionary<string, ServedResults>(StringComparer.Ordinal);
        foreach (var poll in perPoll.Keys)
        {
            served[poll] = await api.ResultsAsync(poll, hardStop.Token);
        }

        var problem = FanoutRun.CheckAll(group.Watchers, behind, poll => served[poll]);
        await group.DisposeAsync();
        var wake = new LongHistogram(1, LoopStats.MaxMicroseconds, 3);
        foreach (var watcher in group.Watchers)
        {
            if (watcher.Seen.FirstOrDefault(s => s.Seq >= seqOf[watcher.PollId]) is { At: > 0 } seen)
            {
                wake.RecordValue(Math.Clamp((seen.At - sentAt[watcher.PollId]) * 1_000_000 / Stopwatch.Frequency, 1, LoopStats.MaxMicroseconds));
            }
        }

        var rssAfterClose = pid is { } p2 ? await ProcessStats.SettledRssMiBAsync(p2, TimeSpan.FromSeconds(5), hardStop.Token) : (double?)null;
        var result = new IdleResult
        {
            Target = args.Target,
            Transport = args.Transport,
            StartedAt = DateTimeOffset.UtcNow,
            Cap = args.Watchers,
            Watchers = group.Watchers.Count,
            Polls = polls.Count,
            ConnectFailures = group.ConnectFailures,
            FirstConnectProblem = group.FirstConnectProblem,
            ConnectSeconds = connectSeconds,
            IdleSeconds = args.Duration.TotalSeconds,
            PresenceSettled = presence,
            ServerRssBeforeMiB = rssBefore,
            ServerRssIdleMiB = rssIdle,
            ServerRssAfterCloseMiB = rssAfterClose,
            ServerPeakRssMiB = pid is { } p4 ? ProcessStats.PeakRssMiB(p4) : null,
            ServerRssAfterGcMiB = rssAfterGc,
            ServerHeapBeforeMiB = heapBefore?.HeapMiB,
            ServerHeapIdleMiB = heapIdle?.HeapMiB,
            HeapKiBPerWatcher = heapBefore is { } hb && heapIdle is { } hi ? (hi.HeapMiB - hb.HeapMiB) * 1024 / group.Watchers.Count : null,
            GcHandlesPerWatcher = heapBefore is { } cb && heapIdle is { } ci ? (ci.Handles - cb.Handles) / (double)group.Watchers.Count : null,
            KiBPerWatcher = rssBefore is { } b && rssIdle is { } idle ? (idle - b) * 1024 / group.Watchers.Count : null,
            ServerIdleCpuSeconds = idleCpu,
            LoadGenRssMiB = loadGenRss,
            WakeP50Ms = wake.TotalCount == 0 ? 0 : wake.GetValueAtPercentile(50) / 1000.0,
            WakeP99Ms = wake.TotalCount == 0 ? 0 : wake.GetValueAtPercentile(99) / 1000.0,
            WakeMaxMs = wake.TotalCount == 0 ? 0 : wake.GetMaxValue() / 1000.0,
            Verified = problem is null,
            Problem = problem,
        };

        Console.WriteLine(string.Create(inv, $"server RSS: {result.ServerRssBeforeMiB:0.0} MiB before, {result.ServerRssIdleMiB:0.0} with {result.Watchers:N0} idle watchers ({result.KiBPerWatcher:0.00} KiB each), {result.ServerRssAfterCloseMiB:0.0} after they closed, peak {result.ServerPeakRssMiB:0.0}; server CPU while idle {result.ServerIdleCpuSeconds:0.00} s in {result.IdleSeconds:0.#} s"));
        Console.WriteLine(result.HeapKiBPerWatcher is null
            ? "server managed heap: not read (not a .NET process, or its diagnostics port did not answer)"
            : string.Create(inv, $"server managed heap after a full GC: {result.ServerHeapBeforeMiB:0.0} MiB before, {result.ServerHeapIdleMiB:0.0} idle ({result.HeapKiBPerWatcher:0.00} KiB and {result.GcHandlesPerWatcher:0.0} GC handles per watcher); RSS after that GC {result.ServerRssAfterGcMiB:0.0} MiB"));
        Console.WriteLine(string.Create(inv, $"presence {(presence ? "settled" : "DID NOT settle within 60 s")}; load generator RSS {result.LoadGenRssMiB:0} MiB"));
        Console.WriteLine(string.Create(inv, $"one vote per poll → every watcher: p50 {result.WakeP50Ms:0.###} ms, p99 {result.WakeP99Ms:0.###} ms, max {result.WakeMaxMs:0.###} ms"));
        Console.WriteLine(problem is null ? string.Create(inv, $"verified: all {result.Watchers:N0} watchers hold the served results") : "NOT VERIFIED: " + problem);
        if (args.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, LoadGenJsonContext.Default.IdleResult));
        }

        if (problem is not null)
        {
            await Console.Error.WriteLineAsync($"VERIFICATION FAILED: {problem}.");
            return 3;
        }

        return 0;
    }
}
