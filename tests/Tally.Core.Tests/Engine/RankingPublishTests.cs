using System.Collections.Concurrent;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>
/// A ranking poll's results wait to be published while more votes wait (each publication recounts the instant runoff),
/// and are always published once none waits: a burst costs a few recounts, and its end is never left unpublished.
/// </summary>
public sealed class RankingPublishTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ManualTimeProvider _clock = new(TestEvents.Epoch);
    private readonly AppendGate _gate = new();
    private TallyEngine _engine = null!;

    public async Task InitializeAsync()
    {
        _engine = new TallyEngine(_gate.Wrap(new InMemoryEventLog()), new InMemorySnapshotStore(), new TallyEngineOptions { Partitions = 1 }, _clock);
        await _engine.StartAsync(default);
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync().AsTask().WaitAsync(Timeout);

    [Theory]
    [InlineData(PollKind.Ranking, new long[] { 1, 4 })] // the commit of seq 2 had two votes behind it: published with them
    [InlineData(PollKind.Multiple, new long[] { 1, 2, 4 })] // other kinds publish after every commit
    public async Task A_commit_with_votes_behind_it_waits_for_them_and_the_last_one_publishes(PollKind kind, long[] published)
    {
        var poll = (await _engine.CreatePollAsync(new CreatePoll("Order", ["A", "B", "C"], kind))).Value!.Poll.Id;
        var seqs = new ConcurrentQueue<long>();
        _engine.Catalog.Published += results =>
        {
            if (results.Poll.Id == poll)
            {
                seqs.Enqueue(results.Seq);
            }
        };
        seqs.Enqueue(1);

        _gate.Close();
        var first = _engine.CastVoteAsync(new CastVote(poll, [1, 2], "ann", null)).AsTask();
        await Eventually.WaitUntilAsync(() => _gate.Waiting == 1, Timeout); // its commit is held
        var later = new[]
        {
            _engine.CastVoteAsync(new CastVote(poll, [2, 1], "bob", null)).AsTask(),
            _engine.CastVoteAsync(new CastVote(poll, [3], "cy", null)).AsTask(),
        };
        await Eventually.WaitUntilAsync(() => _engine.QueuedVotes == 3, Timeout);
        _gate.Open();

        Assert.Equal(2, (await first.WaitAsync(Timeout)).Seq);
        await Task.WhenAll(later).WaitAsync(Timeout);
        await Eventually.WaitUntilAsync(() => _engine.Catalog.FindResults(poll)!.Seq == 4, Timeout);

        Assert.Equal(published, seqs);
        var results = _engine.Catalog.FindResults(poll)!;
        if (kind == PollKind.Ranking)
        {
            // Never a runoff older than the results: it counts all three ballots (A>B, B>A, C): A and B tie at 1, C goes.
            Assert.Equal(3, results.Ranking!.Ballots);
            Assert.Equal(3, results.Ranking.Irv.Rounds[0].Eliminated);
            Assert.Equal([5L, 5, 3], results.Counts); // Borda: A 3 + 2, B 2 + 3, C 3
        }
    }

    [Fact]
    public async Task Closing_a_ranking_poll_publishes_at_once()
    {
        var poll = (await _engine.CreatePollAsync(new CreatePoll("Order", ["A", "B"], PollKind.Ranking))).Value!.Poll.Id;
        await _engine.CastVoteAsync(new CastVote(poll, [2, 1], "ann", null));

        var closed = (await _engine.ClosePollAsync(poll)).Value!;

        Assert.Equal(PollStatus.Closed, closed.Status);
        Assert.Equal(2, closed.Ranking!.Irv.Winner);
        Assert.Equal(3, closed.Seq);
    }
}
