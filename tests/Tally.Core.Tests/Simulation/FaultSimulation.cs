using System.Globalization;
using Tally.Engine;
using Tally.Polls;
using Tally.Testing;

namespace Tally.Core.Tests.Simulation;

/// <summary>What one seed's run did and found.</summary>
internal sealed record SimReport(int Seed, int Steps, int Lives, int Crashes, int Acked, int Unknown, int Refused, int Events, SimHistory History)
{
    public bool Clean => History.Violations.Count == 0;

    public override string ToString() =>
        $"seed {Seed}: {Steps} steps, {Lives} engine lives, {Crashes} crashes, {Acked} votes acknowledged, {Unknown} unknown, {Refused} refused, {Events} events in the log, {History.Violations.Count} violations";
}

/// <summary>
/// One seed's run: a few polls (single without changes, single and multiple and rating with allowChange), voters voting,
/// changing, retrying with the same idempotency key and being erased, one at a time or in concurrent bursts and batches;
/// before a step the seed may arm a fault (a failed append, a crash losing, keeping or tearing the append in flight, a
/// failed snapshot save), and between steps it may crash the machine, restart cleanly, snapshot, or check. After a crash
/// the old engine is stopped (nothing it does reaches the disk any more), the newest snapshot may be lost or have a bit flipped, and a new
/// engine (another partition count and batch size) starts over what the disk kept; then the checker runs.
/// </summary>
internal static class FaultSimulation
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);
    /// <summary>Every this many seeds, a live watcher follows the first poll through every engine life.</summary>
    public const int LiveEvery = 10;

    private const string Alphabet = "abcdefghijkmnpqrstuvwxyz23456789";

    private sealed record SimPoll(string Id, PollKind Kind, bool AllowChange, int Options, int MaxChoices);

    /// <summary>Runs seed <paramref name="seed"/>; anything that throws (an engine that cannot start over what the disk kept, a hung answer) is a violation of the run.</summary>
    /// <param name="readBack">False runs the engine without its read-back after a failed append (a bug put in on purpose, to show the simulation catches it).</param>
    public static async Task<SimReport> RunAsync(int seed, bool readBack = true)
    {
        var history = new SimHistory();
        var disk = new SimulatedDisk();
        var run = new Run { ReadBack = readBack };
        try
        {
            await RunAsync(seed, history, disk, run);
        }
        catch (Exception ex)
        {
            history.Violation($"the run threw at step {run.Step}: {ex}");
        }

        return new SimReport(seed, run.Steps, run.Lives, disk.Crashes, history.AckedCount, history.UnknownCount, history.RefusedCount, disk.Events.Count, history);
    }

    private sealed class Run
    {
        public int Step { get; set; } = -1;

        public int Steps { get; set; }

        public int Lives { get; set; }

        public bool ReadBack { get; init; } = true;
    }

    private static async Task RunAsync(int seed, SimHistory history, SimulatedDisk disk, Run run)
    {
        var random = new Random(seed);
        var clock = new ManualTimeProvider(At);
        var lives = 0;
        using var cancel = new CancellationTokenSource(Timeout * 2);

        var live = seed % LiveEvery == 0;
        SimWatcher? watcher = null;
        string? watched = null;
        var engine = await StartAsync(disk, clock, new Random(HashCode.Combine(seed, lives++)), history, run.ReadBack);
        async Task CheckAsync(string when)
        {
            await SimChecker.CheckAsync(engine, disk, history, when, cancel.Token);
            if (watcher is not null)
            {
                await watcher.CheckAsync(engine, when);
            }
        }

        async Task StartAgainAsync()
        {
            var floor = watcher?.Seq ?? 0;
            if (watcher is not null)
            {
                await watcher.DisposeAsync();
            }

            (engine, watcher) = await StartAsync(disk, clock, new Random(HashCode.Combine(seed, lives++)), history, watched, floor, run.ReadBack);
        }
        var polls = new List<SimPoll>();
        var voters = Enumerable.Range(0, 3 + random.Next(6)).Select(i => "v" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var pollCount = 2 + random.Next(3);
        for (var p = 0; p < pollCount; p++)
        {
            var poll = random.Next(4) switch
            {
                0 => new SimPoll(NewId(random), PollKind.Single, false, 4, 1),
                1 => new SimPoll(NewId(random), PollKind.Single, true, 3, 1),
                2 => new SimPoll(NewId(random), PollKind.Multiple, true, 5, 3),
                _ => new SimPoll(NewId(random), PollKind.Rating, true, 5, 1),
            };
            var command = poll.Kind == PollKind.Rating
                ? new CreatePoll("How was it?", null, PollKind.Rating, AllowChange: true, ScaleMin: 1, ScaleMax: 5)
                : new CreatePoll("Which?", [.. Enumerable.Range(1, poll.Options).Select(i => "option " + i)], poll.Kind, poll.Kind == PollKind.Multiple ? poll.MaxChoices : null, AllowChange: poll.AllowChange);
            var created = await engine.CreatePollAsync(command, poll.Id).WaitAsync(Timeout);
            if (created.Value is null)
            {
                throw new InvalidOperationException($"seed {seed}: poll {poll.Id} was not created: {created.Rejection!.Detail}");
            }

            polls.Add(poll);
            if (live && watched is null)
            {
                // The first life's watcher subscribes once its poll exists; every later life's at its start.
                watched = poll.Id;
                watcher = new SimWatcher(engine.Catalog, clock, history, floor: 0);
                await watcher.WatchAsync(engine, poll.Id);
            }
            history.Schedule.Add($"poll {poll.Id} {poll.Kind} allowChange={poll.AllowChange}");
        }

        var steps = 40 + random.Next(80);
        run.Steps = steps;
        for (var step = 0; step < steps; step++)
        {
            run.Step = step;
            run.Lives = lives;
            clock.Advance(TimeSpan.FromMilliseconds(random.Next(1, 50)));
            var epoch = disk.Epoch;
            var roll = random.Next(100);
            if (roll < 70)
            {
                var fault = ArmFault(random, disk);
                var sent = new List<SentVote>();
                string what;
                if (roll < 35)
                {
                    sent.Add(NewVote(random, history, polls, voters));
                    what = "vote";
                }
                else if (roll < 48)
                {
                    var retriable = history.Votes.Where(v => v.Retriable).ToList();
                    sent.Add(retriable.Count > 0 ? retriable[random.Next(retriable.Count)] : NewVote(random, history, polls, voters));
                    what = "retry";
                }
                else if (roll < 62)
                {
                    var n = 2 + random.Next(7);
                    for (var i = 0; i < n; i++)
                    {
                        sent.Add(NewVote(random, history, polls, voters));
                    }

                    what = random.Next(2) == 0 ? "burst" : "batch";
                }
                else
                {
                    what = "erase";
                }

                var (pollId, voter) = what == "erase" ? (polls[random.Next(polls.Count)].Id, voters[random.Next(voters.Length)]) : (null, null);
                history.Schedule.Add($"step {step}: {what} {(pollId is null ? string.Join(" ", sent.Select(v => $"{v.Key}:{v.PollId}/{v.Voter}[{string.Join(",", v.Options)}]")) : pollId + "/" + voter)} fault={fault}");
                history.Note($"step {step}: {what} fault={fault}");
                switch (what)
                {
                    case "erase":
                        await EraseAsync(engine, history, pollId!, voter!);
                        break;
                    case "batch":
                        await BatchAsync(engine, history, sent);
                        break;
                    default:
                        await Task.WhenAll(sent.Select(v => VoteAsync(engine, history, v)));
                        break;
                }

                disk.Disarm();
            }
            else if (roll < 80)
            {
                // Half the snapshots are taken while a burst of votes is in flight (partitions capture at different positions).
                var failSave = random.Next(3) == 0;
                var during = new List<SentVote>();
                var n = random.Next(2) == 0 ? 0 : 2 + random.Next(7);
                for (var i = 0; i < n; i++)
                {
                    during.Add(NewVote(random, history, polls, voters));
                }

                history.Schedule.Add($"step {step}: snapshot failSave={failSave} during {string.Join(" ", during.Select(v => $"{v.Key}:{v.PollId}/{v.Voter}[{string.Join(",", v.Options)}]"))}");
                history.Note($"step {step}: snapshot failSave={failSave} during a burst of {n}");
                if (failSave)
                {
                    disk.FailNextSnapshotSave();
                }

                var snapshot = engine.SnapshotAsync(cancel.Token); // its captures are queued first, the votes behind them
                var votes = during.Select(v => VoteAsync(engine, history, v)).ToArray();
                try
                {
                    await snapshot.WaitAsync(Timeout);
                }
                catch (IOException ex)
                {
                    history.Note("  snapshot failed: " + ex.Message);
                }

                await Task.WhenAll(votes);
            }
            else if (roll < 86)
            {
                history.Schedule.Add($"step {step}: crash");
                history.Note($"step {step}: crash");
                disk.Crash();
            }
            else if (roll < 90)
            {
                history.Schedule.Add($"step {step}: restart");
                history.Note($"step {step}: restart (clean stop, final snapshot)");
                await engine.StopAsync(cancel.Token).WaitAsync(Timeout);
                await engine.DisposeAsync();
                await StartAgainAsync();
                await CheckAsync($"after the restart at step {step}");
            }
            else
            {
                history.Schedule.Add($"step {step}: check");
                await CheckAsync($"step {step}");
            }

            if (disk.Epoch != epoch)
            {
                // The machine crashed: the old engine is stopped (whatever it still does never reaches the disk), then a new one recovers.
                await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
                var recovery = new Random(HashCode.Combine(seed, lives));
                var snapshotFault = recovery.Next(6);
                if (snapshotFault < 2 && disk.LoseNewestSnapshot())
                {
                    history.Note("  the newest snapshot is lost");
                }
                else if (snapshotFault == 2 && disk.CorruptNewestSnapshot(recovery))
                {
                    history.Note("  one bit of the newest snapshot flipped");
                }

                await StartAgainAsync();
                await CheckAsync($"after the crash at step {step}");
            }

            if (history.Violations.Count > 0)
            {
                break;
            }
        }

        run.Lives = lives;
        await CheckAsync("at the end");
        await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        if (watcher is not null)
        {
            history.Note($"the watchers were written {watcher.Snapshots} snapshots and {watcher.Deltas} deltas in the last life");
            await watcher.DisposeAsync();
        }
    }

    private static async Task<TallyEngine> StartAsync(SimulatedDisk disk, ManualTimeProvider clock, Random random, SimHistory history, bool readBack) =>
        (await StartAsync(disk, clock, random, history, watched: null, floor: 0, readBack)).Engine;

    /// <summary>A new engine life over what the disk kept, with a live watcher of <paramref name="watched"/> when it is given (its hub attached before the start).</summary>
    private static async Task<(TallyEngine Engine, SimWatcher? Watcher)> StartAsync(SimulatedDisk disk, ManualTimeProvider clock, Random random, SimHistory history, string? watched, long floor, bool readBack)
    {
        var options = new TallyEngineOptions
        {
            Partitions = 1 + random.Next(4),
            MaxBatch = random.Next(3) switch { 0 => 1, 1 => 3, _ => 64 },
            SnapshotEveryEvents = 1_000_000, // snapshots only when the workload asks
            SnapshotInterval = TimeSpan.FromDays(1),
            ExpiryCheckInterval = TimeSpan.FromHours(1),
            ReadBackAfterFailedAppend = readBack,
        };
        var engine = new TallyEngine(disk.MountLog(), disk.MountSnapshots(), options, clock);
        var watcher = watched is null ? null : new SimWatcher(engine.Catalog, clock, history, floor);
        await engine.StartAsync(CancellationToken.None).WaitAsync(Timeout);
        if (watcher is not null)
        {
            await watcher.WatchAsync(engine, watched!);
        }

        history.Note($"engine started (disk epoch {disk.Epoch}): {options.Partitions} partitions, batches of {options.MaxBatch}, replayed {engine.ReplayedEvents} events");
        return (engine, watcher);
    }

    private static AppendFault ArmFault(Random random, SimulatedDisk disk)
    {
        var roll = random.Next(100);
        var fault = roll switch
        {
            < 4 => AppendFault.FailKept,
            < 12 => AppendFault.Fail,
            < 16 => AppendFault.CrashLost,
            < 20 => AppendFault.CrashKept,
            < 23 => AppendFault.CrashTorn,
            _ => AppendFault.None,
        };
        disk.Arm(fault, tornKeep: random.Next(1, 4));
        return fault;
    }

    private static SentVote NewVote(Random random, SimHistory history, List<SimPoll> polls, string[] voters)
    {
        var poll = polls[random.Next(polls.Count)];
        var voter = voters[random.Next(voters.Length)];
        var choices = poll.MaxChoices == 1
            ? [1 + random.Next(poll.Options)]
            : Enumerable.Range(1, poll.Options).OrderBy(_ => random.Next()).Take(1 + random.Next(poll.MaxChoices)).Order().ToArray();
        return history.NewVote(poll.Id, voter, choices);
    }

    private static async Task VoteAsync(TallyEngine engine, SimHistory history, SentVote vote)
    {
        try
        {
            history.Answered(vote, await engine.CastVoteAsync(vote.Command).AsTask().WaitAsync(Timeout));
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            history.Failed(vote, ex);
        }
    }

    private static async Task BatchAsync(TallyEngine engine, SimHistory history, List<SentVote> votes)
    {
        try
        {
            var outcome = await engine.CastVotesAsync([.. votes.Select(v => v.Command)]).WaitAsync(Timeout);
            for (var i = 0; i < votes.Count; i++)
            {
                history.Answered(votes[i], outcome.Value is { } each ? each[i] : VoteOutcome.Rejected(outcome.Rejection!));
            }
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            votes.ForEach(v => history.Failed(v, ex));
        }
    }

    private static async Task EraseAsync(TallyEngine engine, SimHistory history, string pollId, string voter)
    {
        foreach (var vote in history.Votes.Where(v => v.PollId == pollId && v.Voter == voter))
        {
            vote.Retriable = false; // the erasure forgets the voter's keys: a retry would count again
        }

        var outcome = await engine.EraseVoterAsync(pollId, voter).WaitAsync(Timeout);
        history.Note($"  erase {pollId}/{voter} -> {(outcome.Value is { } v ? $"erased={v.Erased} seq {v.Seq}" : outcome.Rejection!.Kind.ToString())}");
        if (outcome.Value is { Erased: true } erased)
        {
            history.Erasures.Add((pollId, erased.Seq));
            history.Acknowledged(pollId, erased.Seq);
        }
    }

    private static string NewId(Random random) => new([.. Enumerable.Range(0, 10).Select(_ => Alphabet[random.Next(Alphabet.Length)])]);
}
