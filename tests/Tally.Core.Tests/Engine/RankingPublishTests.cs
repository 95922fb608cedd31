using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Tally.Engine;
using Tally.Polls;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>
/// A ranking poll is published at most once per <see cref="TallyEngineOptions.RankingPublishDelay"/> (each publication
/// recounts its instant runoff); a commit sooner than that is published when the time is up, never left unpublished.
/// </summary>
public sealed class RankingPublishTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _clock = new(TestEvents.Epoch);
    private TallyEngine _engine = null!;

    public async Task InitializeAsync()
    {
        var options = new TallyEngineOptions { Partitions = 1, RankingPublishDelay = Delay, ExpiryCheckInterval = TimeSpan.FromHours(1) };
        _engine = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), options, _clock);
        await _engine.StartAsync(default);
    }

    public async Task DisposeAsync() => await _engine.DisposeAsync().AsTask().WaitAsync(Timeout);

    private async Task<(string Poll, ConcurrentQueue<long> Published)> CreateAsync(PollKind kind)
    {
        var poll = (await _engine.CreatePollAsync(new CreatePoll("Order", ["A", "B", "C"], kind))).Value!.Poll.Id;
        var published = new ConcurrentQueue<long>();
        _engine.Catalog.Published += results =>
        {
            if (results.Poll.Id == poll)
            {
                published.Enqueue(results.Seq);
            }
        };
        return (poll, published);
    }

    private async Task<long> VoteAsync(string poll, int[] ranking, string voter) =>
        (await _engine.CastVoteAsync(new CastVote(poll, ranking, voter, null)).AsTask().WaitAsync(Timeout)).Seq;

    [Fact]
    public async Task Votes_soon_after_a_publication_wait_for_the_delay_and_go_out_together()
    {
        var (poll, published) = await CreateAsync(PollKind.Ranking);
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(2, await VoteAsync(poll, [1, 2], "ann")); // after a quiet spell: published at once
        Assert.Equal([2L], published);
        Assert.Equal(3, await VoteAsync(poll, [2, 1], "bob")); // within the delay of that: deferred
        Assert.Equal(4, await VoteAsync(poll, [3], "cy"));
        Assert.Equal(2, _engine.Catalog.FindResults(poll)!.Seq);

        _clock.Advance(Delay);
        await Eventually.WaitUntilAsync(() => _engine.Catalog.FindResults(poll)!.Seq == 4, Timeout);

        Assert.Equal([2L, 4], published);
        var results = _engine.Catalog.FindResults(poll)!;
        Assert.Equal(3, results.Ranking!.Ballots); // never a runoff older than the results: A>B, B>A, C — C goes
        Assert.Equal(3, results.Ranking.Irv.Rounds[0].Eliminated);
        Assert.Equal([5L, 5, 3], results.Counts); // Borda: A 3 + 2, B 2 + 3, C 3
    }

    [Fact]
    public async Task Other_kinds_publish_every_commit()
    {
        var (poll, published) = await CreateAsync(PollKind.Multiple);

        await VoteAsync(poll, [1, 2], "ann");
        await VoteAsync(poll, [2], "bob");

        Assert.Equal([2L, 3], published);
    }

    [Fact]
    public async Task Closing_a_ranking_poll_publishes_at_once_with_the_deferred_ballots()
    {
        var (poll, published) = await CreateAsync(PollKind.Ranking);
        await VoteAsync(poll, [2, 1], "ann"); // within the delay of the creation: deferred
        Assert.Empty(published);

        var closed = (await _engine.ClosePollAsync(poll)).Value!;

        Assert.Equal(PollStatus.Closed, closed.Status);
        Assert.Equal(3, closed.Seq);
        Assert.Equal(2, closed.Ranking!.Irv.Winner);
        Assert.Equal([3L], published);
    }
}
