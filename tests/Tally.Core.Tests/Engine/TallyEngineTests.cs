using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>What only the embedded engine does (recovery, snapshots, failed appends, races); the rest is <see cref="InMemoryEngineTests"/>.</summary>
public sealed class TallyEngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly InMemoryEventLog _store = new();
    private readonly InMemorySnapshotStore _snapshots = new();
    private readonly List<TallyEngine> _engines = [];
    private ControlledEventLog _log = null!;
    private TallyEngine _engine = null!;

    public async Task InitializeAsync()
    {
        _log = new ControlledEventLog(_store);
        _engine = await StartEngineAsync(_log);
    }

    public async Task DisposeAsync()
    {
        _log.Open();
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task Many_parallel_voters_on_one_poll_are_counted_exactly()
    {
        var poll = await CreatePollAsync(_engine, options: 4);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i =>
            Task.Run(async () => await _engine.CastVoteAsync(new CastVote(poll, [(i % 4) + 1], "voter" + i, null))))).WaitAsync(Timeout);

        Assert.All(outcomes, o => Assert.Equal(VoteStatus.Counted, o.Status));
        Assert.Equal(2000, outcomes.Select(o => o.Seq).Distinct().Count());
        var results = _engine.Catalog.FindResults(poll)!;
        Assert.Equal(2000, results.TotalVotes);
        Assert.Equal([500L, 500L, 500L, 500L], results.Counts);
        Assert.Equal(2001, results.Seq);
    }

    [Fact]
    public async Task The_same_voter_racing_with_itself_is_counted_once()
    {
        var poll = await CreatePollAsync(_engine);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Task.Run(async () => await _engine.CastVoteAsync(new CastVote(poll, [(i % 3) + 1], "same", null))))).WaitAsync(Timeout);

        Assert.Single(outcomes, o => o.Status == VoteStatus.Counted);
        Assert.All(outcomes.Where(o => o.Status != VoteStatus.Counted), o => Assert.Equal(RejectionKind.AlreadyVoted, o.Rejection!.Kind));
        Assert.Equal(1, _engine.Catalog.FindResults(poll)!.TotalVotes);
    }

    [Fact]
    public async Task Parallel_retries_of_one_idempotency_key_count_once_and_all_get_the_first_answer()
    {
        var poll = await CreatePollAsync(_engine, dedupe: DedupePolicy.None);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ =>
            Task.Run(async () => await _engine.CastVoteAsync(new CastVote(poll, [1], null, "key-1"))))).WaitAsync(Timeout);

        Assert.Single(outcomes.Select(o => (o.VoteId, o.Seq, o.Status)).Distinct());
        Assert.Single(outcomes, o => !o.Replayed);
        Assert.Equal(1, _engine.Catalog.FindResults(poll)!.TotalVotes);
    }

    [Fact]
    public async Task A_failed_append_answers_unavailable_and_leaves_no_trace()
    {
        var poll = await CreatePollAsync(_engine, allowChange: true);
        await _engine.CastVoteAsync(new CastVote(poll, [1], "alice", null));
        var before = _engine.Catalog.FindResults(poll)!;

        _log.FailNext();
        var failed = await _engine.CastVotesAsync(
        [
            new CastVote(poll, [2], "alice", "k1"),   // a change
            new CastVote(poll, [3], "bob", "k2"),     // a new ballot
            new CastVote(poll, [1], "alice", null),   // depends on the change above
        ]);

        Assert.Equal(RejectionKind.Unavailable, failed.Rejection?.Kind); // nothing of it counted: the batch is refused as a whole

        // A replay or a refusal decided against a reversed ballot of the same batch is withdrawn too.
        _log.FailNext();
        var sameBatch = await _engine.CastVotesAsync(
        [
            new CastVote(poll, [3], "carol", "k3"),
            new CastVote(poll, [3], "carol", "k3"),   // would be a replay of the line above
            new CastVote(poll, [2], "dave", null),
            new CastVote(poll, [2], "dave", null),    // would be already-voted... for a reversed ballot
        ]);
        Assert.Equal(RejectionKind.Unavailable, sameBatch.Rejection?.Kind);
        var after = _engine.Catalog.FindResults(poll)!;
        Assert.Equal(before.Seq, after.Seq);
        Assert.Equal(before.Counts, after.Counts);

        // The write side was reversed too: the same commands now succeed as if never tried.
        var retried = await _engine.CastVotesAsync([new CastVote(poll, [2], "alice", "k1"), new CastVote(poll, [3], "bob", "k2")]);
        Assert.Equal([VoteStatus.Changed, VoteStatus.Counted], retried.Value!.Select(o => o.Status));
        Assert.False(retried.Value![0].Replayed);
        Assert.Equal([0L, 1L, 1L], _engine.Catalog.FindResults(poll)!.Counts);
        Assert.Equal(before.Seq + 2, _engine.Catalog.FindResults(poll)!.Seq);
    }

    [Fact]
    public async Task A_failed_poll_creation_leaves_no_poll()
    {
        _log.FailNext();
        var outcome = await _engine.CreatePollAsync(new CreatePoll("q", ["a", "b"]));
        Assert.Equal(RejectionKind.Unavailable, outcome.Rejection?.Kind);
        Assert.Equal(0, _engine.Catalog.Count);
    }

    [Fact]
    public async Task Stopping_answers_every_queued_vote_and_refuses_later_ones()
    {
        var engine = await StartEngineAsync(_log, o => o.Partitions = 1);
        var poll = await CreatePollAsync(engine, dedupe: DedupePolicy.None);
        _log.Close();
        var queued = Enumerable.Range(0, 50).Select(_ => engine.CastVoteAsync(new CastVote(poll, [1], null, null)).AsTask()).ToArray();
        await Eventually.WaitUntilAsync(() => _log.Waiting == 1);

        var stopping = engine.StopAsync(CancellationToken.None);
        _log.Open();
        await stopping.WaitAsync(Timeout);

        var answered = await Task.WhenAll(queued).WaitAsync(Timeout);
        Assert.All(answered, o => Assert.Equal(VoteStatus.Counted, o.Status));
        Assert.Equal(RejectionKind.Unavailable, (await engine.CastVoteAsync(new CastVote(poll, [1], null, null))).Rejection?.Kind);
        Assert.NotNull(await _snapshots.LoadLatestAsync(default));
    }

    [Fact]
    public async Task A_restart_rebuilds_the_same_tallies_from_snapshot_and_log_tail()
    {
        var engine = await StartEngineAsync(_log, o => o.Partitions = 3);
        var polls = new List<string>();
        for (var p = 0; p < 5; p++)
        {
            polls.Add(await CreatePollAsync(engine, allowChange: p % 2 == 0));
        }

        await CastRandomAsync(engine, polls, 600, seed: 1);
        await engine.SnapshotAsync(default);
        var atSnapshot = _store.CommittedPosition;
        await CastRandomAsync(engine, polls, 400, seed: 2);
        await engine.ClosePollAsync(polls[4]);
        var expected = Describe(engine.Catalog, polls);

        // A crash: no final snapshot. A new engine (other partition count) recovers from snapshot + tail.
        var recovered = await StartEngineAsync(new ControlledEventLog(_store), o => o.Partitions = 2);

        Assert.Equal(expected, Describe(recovered.Catalog, polls));
        var replayFrom = (await _snapshots.LoadLatestAsync(default))!.ReplayFrom;
        Assert.Equal(atSnapshot, replayFrom);
        Assert.Equal(_store.CommittedPosition - replayFrom, recovered.ReplayedEvents);

        // Dedupe and idempotency state came back too.
        var again = await recovered.CastVoteAsync(new CastVote(polls[1], [1], "v1", null));
        Assert.Equal(RejectionKind.AlreadyVoted, again.Rejection?.Kind);
    }

    [Fact]
    public async Task A_restart_without_a_snapshot_replays_the_whole_log()
    {
        var poll = await CreatePollAsync(_engine);
        await CastRandomAsync(_engine, [poll], 300, seed: 3);
        var expected = Describe(_engine.Catalog, [poll]);

        var recovered = await StartEngineAsync(new ControlledEventLog(_store), snapshots: new InMemorySnapshotStore());

        Assert.Equal(expected, Describe(recovered.Catalog, [poll]));
        Assert.Equal(_store.CommittedPosition, recovered.ReplayedEvents);
    }

    [Fact]
    public async Task A_share_larger_than_max_batch_is_admitted_whole_and_appended_in_pieces_of_at_most_max_batch()
    {
        var appends = new SizesLog(_store);
        var engine = await StartEngineAsync(appends, o => { o.Partitions = 1; o.MaxBatch = 100; o.QueueCapacity = 1000; });
        var poll = await CreatePollAsync(engine, dedupe: DedupePolicy.None);

        var answers = await engine.CastVotesAsync([.. Enumerable.Range(0, 1000).Select(i => new CastVote(poll, [1 + (i % 3)], null, null))]).WaitAsync(Timeout);
        var tooMany = await engine.CastVotesAsync([.. Enumerable.Range(0, 1001).Select(_ => new CastVote(poll, [1], null, null))]).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(2, 1000).Select(i => (long)i), answers.Value!.Select(a => a.Seq)); // in order
        Assert.Equal(RejectionKind.Overloaded, tooMany.Rejection?.Kind); // a share is admitted whole, or not at all
        Assert.All(appends.Sizes, size => Assert.InRange(size, 1, 100));
        Assert.Equal(1001, appends.Sizes.Sum());
    }

    private async Task<TallyEngine> StartEngineAsync(IEventLog log, Action<TallyEngineOptions>? configure = null, ISnapshotStore? snapshots = null, TimeProvider? time = null)
    {
        var options = new TallyEngineOptions();
        configure?.Invoke(options);
        var engine = new TallyEngine(log, snapshots ?? _snapshots, options, time);
        await engine.StartAsync(default).WaitAsync(Timeout);
        _engines.Add(engine);
        return engine;
    }

    private static async Task<string> CreatePollAsync(TallyEngine engine, int options = 3, DedupePolicy dedupe = DedupePolicy.Voter, bool allowChange = false)
    {
        var outcome = await engine.CreatePollAsync(new CreatePoll("Which?", Enumerable.Range(1, options).Select(i => (string?)("O" + i)).ToArray(), Dedupe: dedupe, AllowChange: allowChange)).WaitAsync(Timeout);
        return outcome.Value?.Poll.Id ?? throw new InvalidOperationException(outcome.Rejection!.Detail);
    }

    private static async Task CastRandomAsync(TallyEngine engine, IReadOnlyList<string> polls, int count, int seed)
    {
        var random = new Random(seed);
        var votes = Enumerable.Range(0, count)
            .Select(_ => new CastVote(polls[random.Next(polls.Count)], [random.Next(1, 4)], "v" + random.Next(60), random.Next(3) == 0 ? "k" + random.Next(100) : null))
            .ToArray();
        await Task.WhenAll(votes.Chunk(37).Select(chunk => engine.CastVotesAsync(chunk))).WaitAsync(Timeout);
    }

    private static string Describe(PollCatalog catalog, IEnumerable<string> polls) =>
        string.Join("\n", polls.Select(id => catalog.FindResults(id)!).Select(r => $"{r.Poll.Id} seq={r.Seq} {r.Status} total={r.TotalVotes} [{string.Join(",", r.Counts)}]"));

    /// <summary>Records how many events each append holds.</summary>
    private sealed class SizesLog(IEventLog inner) : IEventLog
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<int> _sizes = new();

        public IReadOnlyCollection<int> Sizes => _sizes;

        public long CommittedPosition => inner.CommittedPosition;

        public Task OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

        public ValueTask<long> AppendAsync(IReadOnlyList<Tally.Events.PollEvent> events, CancellationToken cancellationToken)
        {
            _sizes.Enqueue(events.Count);
            return inner.AppendAsync(events, cancellationToken);
        }

        public IAsyncEnumerable<Tally.Events.StoredEvent> ReadAsync(long afterPosition, CancellationToken cancellationToken) => inner.ReadAsync(afterPosition, cancellationToken);

        public Task<bool> IsHealthyAsync(CancellationToken cancellationToken) => inner.IsHealthyAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
