using System.Buffers.Binary;
using Tally.Engine;
using Tally.Polls;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>A snapshot that is not whole is never started from: the engine says so and rebuilds the exact state from the log.</summary>
public sealed class SnapshotIntegrityTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly InMemoryEventLog _log = new();
    private readonly InMemorySnapshotStore _snapshots = new();
    private readonly ManualTimeProvider _clock = new(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000));
    private readonly List<TallyEngine> _engines = [];
    private readonly List<(string Where, Exception Error)> _faults = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }

    public static TheoryData<string> Damages => new() { "a flipped byte", "cut in half", "the checksum's last byte", "four bytes" };

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task A_damaged_snapshot_is_refused_and_the_log_alone_gives_the_exact_tally(string damage)
    {
        var (poll, expected) = await VoteAndSnapshotAsync();
        var good = (await _snapshots.LoadLatestAsync(default))!;
        var data = good.Data.ToArray();
        data = damage switch
        {
            "a flipped byte" => Flip(data, data.Length / 2),
            "cut in half" => data[..(data.Length / 2)],
            "the checksum's last byte" => Flip(data, data.Length - 1),
            _ => data[..4],
        };
        await _snapshots.SaveAsync(good with { Data = data }, default);

        var restarted = await StartAsync();

        Assert.Equal(expected, Counts(restarted, poll));
        var (where, error) = Assert.Single(_faults);
        Assert.Equal("snapshot", where);
        Assert.Contains("The whole log is replayed instead", error.Message, StringComparison.Ordinal);
        Assert.Equal(_log.CommittedPosition, restarted.ReplayedEvents); // every event, from the first
    }

    [Fact]
    public async Task A_whole_snapshot_is_used_and_one_from_before_checksums_still_reads()
    {
        var (poll, expected) = await VoteAndSnapshotAsync();
        var fromSnapshot = await StartAsync();
        Assert.Equal(expected, Counts(fromSnapshot, poll));
        Assert.True(fromSnapshot.ReplayedEvents < _log.CommittedPosition);

        // Format 7 was the same bytes without the checksum.
        var good = (await _snapshots.LoadLatestAsync(default))!;
        var seven = good.Data[..^32];
        BinaryPrimitives.WriteInt32LittleEndian(seven, 7);
        await _snapshots.SaveAsync(good with { Data = seven }, default);
        var fromSeven = await StartAsync();

        Assert.Equal(expected, Counts(fromSeven, poll));
        Assert.Empty(_faults);
    }

    private async Task<(string Poll, string Counts)> VoteAndSnapshotAsync()
    {
        var engine = await StartAsync();
        var poll = (await engine.CreatePollAsync(new CreatePoll("Which?", ["A", "B", "C"])).WaitAsync(Timeout)).Value!.Poll.Id;
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(VoteStatus.Counted, (await engine.CastVoteAsync(new CastVote(poll, [1 + (i % 3)], "v" + i, null)).AsTask().WaitAsync(Timeout)).Status);
            if (i == 24)
            {
                await engine.SnapshotAsync(default).WaitAsync(Timeout);
            }
        }

        return (poll, Counts(engine, poll));
    }

    private async Task<TallyEngine> StartAsync()
    {
        var engine = new TallyEngine(_log, _snapshots, new TallyEngineOptions(), _clock);
        engine.Faulted += (where, ex) =>
        {
            lock (_faults)
            {
                _faults.Add((where, ex));
            }
        };
        await engine.StartAsync(default).WaitAsync(Timeout);
        _engines.Add(engine);
        return engine;
    }

    private static string Counts(TallyEngine engine, string poll)
    {
        var results = engine.Catalog.FindResults(poll)!;
        return $"{results.Seq}:{string.Join(",", results.Counts)}";
    }

    private static byte[] Flip(byte[] data, int at)
    {
        data[at] ^= 0x5A;
        return data;
    }
}
