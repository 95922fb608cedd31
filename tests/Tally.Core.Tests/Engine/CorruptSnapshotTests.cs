using Tally.Engine;
using Tally.Polls;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>
/// A corrupt snapshot never restores a wrong state (found by the fault simulation's probe: before snapshots carried a
/// checksum, 60 of 1,324 single-bit flips of one started an engine that served wrong counts or seqs).
/// </summary>
public sealed class CorruptSnapshotTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);

    [Fact]
    public async Task Every_single_bit_flip_of_a_snapshot_is_refused_and_the_state_is_rebuilt_from_the_whole_log()
    {
        var log = new InMemoryEventLog();
        var store = new InMemorySnapshotStore();
        var options = new TallyEngineOptions { Partitions = 2 };
        var first = new TallyEngine(log, store, options, new ManualTimeProvider(At));
        await first.StartAsync(default).WaitAsync(Timeout);
        var poll = (await first.CreatePollAsync(new CreatePoll("Which?", ["a", "b", "c"], AllowChange: true))).Value!.Poll.Id;
        for (var i = 0; i < 12; i++)
        {
            Assert.Null((await first.CastVoteAsync(new CastVote(poll, [1 + (i % 3)], "v" + (i % 8), "k" + i))).Rejection);
        }

        await first.DisposeAsync(); // the final snapshot
        var truth = first.Catalog.FindResults(poll)!;
        var good = (await store.LoadLatestAsync(default))!;
        Assert.True(good.ReplayFrom > 0);

        var refused = 0;
        for (var bit = 0; bit < good.Data.Length * 8; bit += 3) // every third bit: all bytes, a third of a second per 100 starts
        {
            var data = (byte[])good.Data.Clone();
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            var corrupt = new InMemorySnapshotStore();
            await corrupt.SaveAsync(good with { Data = data }, default);
            await using var engine = new TallyEngine(log, corrupt, options, new ManualTimeProvider(At));
            var faults = new List<string>();
            engine.Faulted += (where, _) => faults.Add(where);
            await engine.StartAsync(default).WaitAsync(Timeout);

            var served = engine.Catalog.FindResults(poll)!;
            Assert.Equal(truth.Seq, served.Seq);
            Assert.Equal(truth.Counts, served.Counts);
            Assert.Equal(truth.TotalVotes, served.TotalVotes);
            Assert.Equal(log.CommittedPosition, engine.ReplayedEvents); // the log alone, every event of it
            Assert.True((await TallyVerifier.VerifyAsync(engine, default)).Clean);
            var replay = await engine.CastVoteAsync(new CastVote(poll, [1 + (3 % 3)], "v3", "k3")); // its idempotency key is known again
            Assert.True(replay.Replayed, $"bit {bit}");
            Assert.Equal(["snapshot"], faults);
            refused++;
        }

        Assert.True(refused > 1000);
    }
}
