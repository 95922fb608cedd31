using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using HdrHistogram;

namespace Tally.LoadGen;

/// <summary>
/// One ingest run: C loops post for warm-up + duration seconds (and at most <see cref="LoadArgs.MaxRequests"/>
/// requests), then, against Tally, the server's totals are checked against every vote it acknowledged.
/// </summary>
internal static class IngestRun
{
    /// <summary>How long a loop waits after a 503 before it sends again (shorter than Retry-After, so the run measures the server, not the wait).</summary>
    private static readonly TimeSpan s_overloadBackoff = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(string scenario, LoadArgs args)
    {
        using var client = LoadClient.Create(args.Concurrency + 1);

        // Nothing may run past warm-up + duration + this grace: a loop stuck on a request is cancelled then.
        using var hardStop = new CancellationTokenSource(args.Warmup + args.Duration + TimeSpan.FromSeconds(45));

        var api = args.IsTally ? new TallyApi(client, args.Url, args.AdminKey!) : null;
        var polls = new List<string>();
        using var auth = scenario == Scenarios.IngestAuth ? await PrepareAuthAsync(client, args) : null;
        if (auth is not null)
        {
            polls.AddRange(auth.Polls);
            hardStop.CancelAfter(args.Warmup + args.Duration + TimeSpan.FromSeconds(45)); // from now: the set-up may take a while
        }
        QuizVotes? quiz = null;
        if (auth is null && api is not null && args.Kind == "quiz")
        {
            quiz = await QuizVotes.PrepareAsync(api, args.Url, args.Concurrency, hardStop.Token);
            polls.AddRange(quiz.Questions);
            hardStop.CancelAfter(args.Warmup + args.Duration + TimeSpan.FromSeconds(45)); // from now: joining 10,000 takes a while
        }
        else if (auth is null && api is not null)
        {
            for (var i = 0; i < args.Polls; i++)
            {
                polls.Add(await api.CreatePollAsync($"bench {scenario} {DateTimeOffset.UtcNow:O} #{i}", hardStop.Token, args.Kind));
            }
        }
        else
        {
            polls.Add("ceiling");
        }

        Workload workload = auth is not null
            ? new AuthVotes(args.Url, auth, args.Concurrency, args.VotesPerToken)
            : quiz is not null ? quiz
            : scenario is Scenarios.IngestSingle or Scenarios.IngestWs
                ? new SingleVotes(args.Url, polls, args.Concurrency, args.Kind)
                : new VoteBatches(args.Url, polls, args.Concurrency, args.Batch);

        Console.WriteLine($"{scenario} → {args.Target} {args.Url}: concurrency {args.Concurrency}, {workload.VotesPerRequest} vote(s)/request, "
            + $"{polls.Count} poll(s), warm-up {args.Warmup.TotalSeconds:0.#} s, measured {args.Duration.TotalSeconds:0.#} s");

        var startedAt = DateTimeOffset.UtcNow;
        var start = Stopwatch.GetTimestamp();
        var window = MeasuredWindow.After(start, args.Warmup, args.Duration);
        var sampler = window.SampleCpuAsync(ProcessStats.ServerCpuReader(args.ServerPid, args.CpuPids), hardStop.Token);
        var loops = new LoopStats[args.Concurrency];
        var tasks = new Task[args.Concurrency];
        for (var i = 0; i < loops.Length; i++)
        {
            var loop = i;
            loops[loop] = new LoopStats();
            var cap = (args.MaxRequests / args.Concurrency) + (loop < args.MaxRequests % args.Concurrency ? 1 : 0); // the caps add up to MaxRequests
            tasks[loop] = scenario == Scenarios.IngestWs
                ? Task.Run(() => WebSocketVotes.LoopAsync(args.Url, polls[loop % polls.Count], loop, loops[loop], window, cap, hardStop.Token))
                : Task.Run(() => LoopAsync(loop, client, workload, loops[loop], window, cap, hardStop.Token));
        }

        var seconds0 = (args.Warmup + args.Duration).TotalSeconds;
        await LiveProgress.TrackAsync("sending votes", seconds0, () => Stopwatch.GetElapsedTime(start).TotalSeconds, Task.WhenAll(tasks));
        var cpu = await sampler;

        var total = new LoopStats();
        foreach (var stats in loops)
        {
            total.Merge(stats);
        }

        long? counted = null;
        bool? verified = null;
        if (api is not null)
        {
            // Behind a load balancer the read may reach a node whose view trails the one that answered a vote (Tally's
            // cluster nodes did before queries went to the partition's owner): while the count is below the acknowledged
            // votes, read again, for at most 5 s. A single server answers exactly at once.
            var readUntil = Stopwatch.GetTimestamp() + MeasuredWindow.Ticks(TimeSpan.FromSeconds(5));
            while (true)
            {
                counted = 0;
                foreach (var poll in polls)
                {
                    counted += await api.TotalVotesAsync(poll, hardStop.Token);
                }

                if (counted >= total.AckedVotes || Stopwatch.GetTimestamp() > readUntil)
                {
                    break;
                }

                await Task.Delay(100, hardStop.Token);
            }

            // With no unanswered request the count must be exact; an unanswered one may or may not have been counted.
            verified = total.Indeterminate == 0
                ? counted == total.AckedVotes
                : counted >= total.AckedVotes && counted <= total.AckedVotes + (total.Indeterminate * workload.VotesPerRequest);
        }

        var seconds = args.Duration.TotalSeconds;
        var h = total.Latency;
        var result = new RunResult
        {
            Scenario = scenario,
            Target = args.Target,
            Kind = args.IsTally && scenario == Scenarios.IngestSingle ? args.Kind : null,
            Auth = auth is null ? null : args.Auth,
            VotesPerToken = auth is null ? null : args.VotesPerToken,
            VotersRanOut = (workload as AuthVotes)?.VotersRanOut,
            StartedAt = startedAt,
            Concurrency = args.Concurrency,
            Batch = workload.VotesPerRequest,
            Polls = polls.Count,
            WarmupSeconds = args.Warmup.TotalSeconds,
            DurationSeconds = seconds,
            VotesPerSecond = loops.Sum(l => l.WindowVotes) / seconds,
            RequestsPerSecond = loops.Sum(l => l.WindowRequests) / seconds,
            P50Ms = Ms(h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(50)),
            P90Ms = Ms(h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(90)),
            P99Ms = Ms(h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(99)),
            P999Ms = Ms(h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(99.9)),
            MaxMs = Ms(h.TotalCount == 0 ? 0 : h.GetMaxValue()),
            Sent = total.Sent,
            AckedVotes = total.AckedVotes,
            RejectedVotes = total.RejectedVotes,
            Overloaded = total.Overloaded,
            Errors = total.Errors,
            Indeterminate = total.Indeterminate,
            FirstProblem = total.FirstProblem,
            CountedByServer = counted,
            Verified = verified,
            ServerCpuSeconds = cpu.Server,
            ServerPeakRssMiB = args.ServerPid is { } pid ? ProcessStats.PeakRssMiB(pid) : null,
            LoadGenCpuSeconds = cpu.LoadGen,
            OtherCpuSeconds = cpu.Other,
            IoWaitSeconds = cpu.IoWait,
        };

        Print(result);
        if (total.Sent >= args.MaxRequests || result.VotersRanOut == true)
        {
            Console.WriteLine(result.VotersRanOut == true
                ? "warning: the prepared voters ran out before the window ended: votes/s is understated (CPU per vote is not)."
                : $"warning: the cap of {args.MaxRequests:N0} requests was reached before the window ended: votes/s is understated.");
        }

        if (args.JsonPath is { } path)
        {
            await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, LoadGenJsonContext.Default.RunResult));
        }

        if (verified == false)
        {
            await Console.Error.WriteLineAsync(
                $"VERIFICATION FAILED: the load generator saw {total.AckedVotes} votes acknowledged "
                + $"({total.Indeterminate} requests unanswered) but the server counts {counted}. This run's figures are worthless.");
            return 3;
        }

        return 0;
    }

    /// <summary>The run's workspace, polls and one credential per voter (as many voters as the run may need), bounded to 10 minutes.</summary>
    private static async Task<AuthSetup> PrepareAuthAsync(HttpClient client, LoadArgs args)
    {
        using var setupStop = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var voters = (int)Math.Min(10_000_000, (args.MaxRequests + args.VotesPerToken - 1) / args.VotesPerToken);
        var started = Stopwatch.GetTimestamp();
        Console.WriteLine($"ingest-auth: preparing {voters:N0} voters' credentials ({args.Auth}) and {args.VotesPerToken} poll(s)");
        var setup = await AuthSetup.CreateAsync(client, args.Url, args.AdminKey!, args.Auth, args.VotesPerToken, voters, setupStop.Token);
        Console.WriteLine($"ingest-auth: prepared in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s (workspace {setup.Workspace})");
        return setup;
    }

    private static async Task LoopAsync(int loop, HttpClient client, Workload workload, LoopStats stats, MeasuredWindow window, long cap, CancellationToken hardStop)
    {
        for (long n = 0; n < cap && !hardStop.IsCancellationRequested; n++)
        {
            await workload.BeforeAsync(loop, n, window.End, hardStop);
            if (Stopwatch.GetTimestamp() >= window.End || workload.Next(loop, n) is not { } next)
            {
                break;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, next.Uri) { Content = new ByteArrayContent(next.Body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            if (next.Authorization is { } authorization)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            stats.Sent++;
            var t0 = Stopwatch.GetTimestamp();
            int status;
            byte[] answer;
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, hardStop);
                status = (int)response.StatusCode;
                answer = await response.Content.ReadAsByteArrayAsync(hardStop);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // No answer: the vote may or may not be counted. Counted, reported, and checked against the server's totals.
                stats.Indeterminate++;
                stats.FirstProblem ??= $"no answer: {ex.GetType().Name}: {ex.Message}";
                continue;
            }

            var t1 = Stopwatch.GetTimestamp();
            var inWindow = t1 >= window.Start && t1 <= window.End;
            if (status is >= 200 and < 300)
            {
                var (counted, notCounted, problem) = workload.ReadAck(status, answer);
                stats.AckedVotes += counted;
                stats.RejectedVotes += notCounted;
                stats.FirstProblem ??= problem;
                if (inWindow)
                {
                    stats.WindowRequests++;
                    stats.WindowVotes += counted;
                    stats.Latency.RecordValue(Math.Min(LoopStats.MaxMicroseconds, Math.Max(1, (t1 - t0) * 1_000_000 / Stopwatch.Frequency)));
                }
            }
            else if (status == (int)HttpStatusCode.ServiceUnavailable)
            {
                stats.Overloaded++;
                var wait = TimeSpan.FromTicks(Math.Min(s_overloadBackoff.Ticks, Math.Max(0, Stopwatch.GetElapsedTime(t1, window.End).Ticks)));
                await Task.Delay(wait, CancellationToken.None); // at most 50 ms and never past the window's end
            }
            else
            {
                stats.Errors++;
                stats.FirstProblem ??= $"answered {status}: {System.Text.Encoding.UTF8.GetString(answer[..Math.Min(answer.Length, 400)])}";
            }
        }
    }

    private static void Print(RunResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"throughput: {r.VotesPerSecond:N0} acked votes/s ({r.RequestsPerSecond:N0} requests/s)"));
        Console.WriteLine(string.Create(inv, $"latency ms: p50 {r.P50Ms:0.###}  p90 {r.P90Ms:0.###}  p99 {r.P99Ms:0.###}  p99.9 {r.P999Ms:0.###}  max {r.MaxMs:0.###}"));
        Console.WriteLine(string.Create(inv, $"requests sent {r.Sent:N0}; votes acked {r.AckedVotes:N0}; not counted in 2xx answers {r.RejectedVotes:N0}; 503 {r.Overloaded:N0}; other errors {r.Errors:N0}; unanswered {r.Indeterminate:N0}"));
        if (r.FirstProblem is { } problem)
        {
            Console.WriteLine("first problem: " + problem);
        }

        if (r.ServerCpuSeconds is { } cpu)
        {
            Console.WriteLine(string.Create(inv, $"server: {cpu:0.00} CPU-s in {r.DurationSeconds:0.#} s ({cpu / r.DurationSeconds * 100:0}% of one core), peak RSS {r.ServerPeakRssMiB:0} MiB"));
        }

        Console.WriteLine(string.Create(inv, $"load generator: {r.LoadGenCpuSeconds:0.00} CPU-s; other processes: {r.OtherCpuSeconds:0.00} CPU-s; iowait {r.IoWaitSeconds:0.00} s (all cores, in {r.DurationSeconds:0.#} s)"));
        if (r.Verified is { } ok)
        {
            Console.WriteLine(ok && r.Indeterminate == 0
                ? string.Create(inv, $"verified: acked {r.AckedVotes} == counted {r.CountedByServer}")
                : ok
                    ? string.Create(inv, $"verified within bounds: acked {r.AckedVotes} <= counted {r.CountedByServer} <= acked + unanswered")
                    : string.Create(inv, $"NOT VERIFIED: acked {r.AckedVotes} != counted {r.CountedByServer}"));
        }
    }

    private static double Ms(long microseconds) => microseconds / 1000.0;
}
