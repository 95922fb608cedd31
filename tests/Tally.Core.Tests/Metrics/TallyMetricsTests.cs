using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Tally.Core.Tests.Live;
using Tally.Engine;
using Tally.Live;
using Tally.Metrics;
using Tally.Polls;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Metrics;

/// <summary>
/// The <c>Tally</c> meter after known sequences of commands. Each engine and hub here has a meter of its own,
/// and the collectors listen to that instance only, so tests running in parallel do not see each other.
/// </summary>
public sealed class TallyMetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Votes_are_counted_by_outcome_and_a_full_queue_by_request()
    {
        var log = new ControlledEventLog(new InMemoryEventLog());
        await using var engine = new TallyEngine(log, new InMemorySnapshotStore(), new TallyEngineOptions { Partitions = 1, QueueCapacity = 2, MaxBatch = 1 });
        using var votes = new MetricCollector<long>(engine.Metrics.Meter, "tally.votes");
        using var queueFull = new MetricCollector<long>(engine.Metrics.Meter, "tally.ingest.queue_full");
        using var queued = new MetricCollector<int>(engine.Metrics.Meter, "tally.ingest.queued_votes");
        using var appendErrors = new MetricCollector<long>(engine.Metrics.Meter, "tally.eventlog.append.errors");
        using var appendEvents = new MetricCollector<int>(engine.Metrics.Meter, "tally.eventlog.append.events");
        using var appendDuration = new MetricCollector<double>(engine.Metrics.Meter, "tally.eventlog.append.duration");
        await engine.StartAsync(default).WaitAsync(Timeout);
        var poll = await CreatePollAsync(engine, DedupePolicy.Voter);
        var open = await CreatePollAsync(engine, DedupePolicy.None);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(VoteStatus.Counted, (await engine.CastVoteAsync(new CastVote(poll, [(i % 3) + 1], "v" + i, null))).Status);
        }

        Assert.Equal(RejectionKind.AlreadyVoted, (await engine.CastVoteAsync(new CastVote(poll, [2], "v0", null))).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownOption, (await engine.CastVoteAsync(new CastVote(poll, [9], "x", null))).Rejection?.Kind);
        Assert.False((await engine.CastVoteAsync(new CastVote(open, [1], null, "k1"))).Replayed);
        Assert.True((await engine.CastVoteAsync(new CastVote(open, [1], null, "k1"))).Replayed);
        var batch = await engine.CastVotesAsync([new CastVote(open, [2], null, null), new CastVote("missing", [1], null, null), new CastVote(open, [7], null, null)]);
        Assert.Equal([null, RejectionKind.UnknownPoll, RejectionKind.UnknownOption], batch.Value!.Select(o => o.Rejection?.Kind));

        // Fill the queue: the first vote waits at the log's gate, the second in the queue; then a vote and a batch are refused.
        log.Close();
        var first = engine.CastVoteAsync(new CastVote(poll, [1], "q1", null)).AsTask();
        await Eventually.WaitUntilAsync(() => log.Waiting == 1, Timeout);
        var second = engine.CastVoteAsync(new CastVote(poll, [2], "q2", null)).AsTask();
        await Eventually.WaitUntilAsync(() => engine.QueuedVotes == 2, Timeout);
        Assert.Equal(RejectionKind.Overloaded, (await engine.CastVoteAsync(new CastVote(poll, [3], "q3", null))).Rejection?.Kind);
        Assert.Equal(RejectionKind.Overloaded, (await engine.CastVotesAsync([new CastVote(poll, [1], "q4", null), new CastVote(poll, [1], "q5", null)])).Rejection?.Kind);
        queued.RecordObservableInstruments();
        Assert.Equal(2, queued.LastMeasurement?.Value);
        log.Open();
        Assert.All(await Task.WhenAll(first, second).WaitAsync(Timeout), o => Assert.Equal(VoteStatus.Counted, o.Status));

        log.FailNext();
        Assert.Equal(RejectionKind.Unavailable, (await engine.CastVoteAsync(new CastVote(poll, [1], "f1", null))).Rejection?.Kind);

        Assert.Equal(5 + 1 + 1 + 2, Sum(votes, ("outcome", "counted")));
        Assert.Equal(0, Sum(votes, ("outcome", "changed")));
        Assert.Equal(1, Sum(votes, ("outcome", "duplicate")));
        Assert.Equal(1, Sum(votes, ("outcome", "replayed")));
        Assert.Equal(2, Sum(votes, ("outcome", "rejected"), ("reason", "unknown_option")));
        Assert.Equal(1, Sum(votes, ("outcome", "rejected"), ("reason", "unknown_poll")));
        Assert.Equal(3, Sum(votes, ("outcome", "rejected"), ("reason", "overloaded"))); // one vote, then a batch of two
        Assert.Equal(1, Sum(votes, ("outcome", "rejected"), ("reason", "unavailable")));
        Assert.Equal(5 + 1 + 1 + 2 + 1 + 1 + 2 + 1 + 3 + 1, Sum(votes)); // every ballot once
        Assert.Equal(2, Sum(queueFull)); // requests, not votes
        Assert.Equal(1, Sum(appendErrors));
        queued.RecordObservableInstruments();
        Assert.Equal(0, queued.LastMeasurement?.Value);

        // Every command above was awaited before the next: one append each (2 polls, 9 ballots), one event each.
        var appends = appendEvents.GetMeasurementSnapshot();
        Assert.Equal(11, appends.Count);
        Assert.All(appends, m => Assert.Equal(1, m.Value));
        Assert.Equal(log.CommittedPosition, appends.Sum(m => (long)m.Value));
        Assert.Equal(11, appendDuration.GetMeasurementSnapshot().Count);
        Assert.All(appendDuration.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, Timeout.TotalSeconds));
    }

    [Fact]
    public async Task A_batch_of_changes_is_added_once_per_outcome_and_polls_and_snapshots_are_counted()
    {
        await using var engine = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), new TallyEngineOptions());
        using var votes = new MetricCollector<long>(engine.Metrics.Meter, "tally.votes");
        using var polls = new MetricCollector<int>(engine.Metrics.Meter, "tally.polls");
        using var snapshots = new MetricCollector<long>(engine.Metrics.Meter, "tally.snapshots");
        await engine.StartAsync(default).WaitAsync(Timeout);
        var poll = await CreatePollAsync(engine, DedupePolicy.Voter, allowChange: true);
        var other = await CreatePollAsync(engine, DedupePolicy.Voter);

        await engine.CastVotesAsync([.. Enumerable.Range(0, 100).Select(i => new CastVote(poll, [1], "v" + i, null))]).WaitAsync(Timeout);
        var changes = await engine.CastVotesAsync([.. Enumerable.Range(0, 40).Select(i => new CastVote(poll, [2], "v" + i, null))]).WaitAsync(Timeout);
        Assert.All(changes.Value!, o => Assert.Equal(VoteStatus.Changed, o.Status));
        Assert.Equal(PollStatus.Closed, (await engine.ClosePollAsync(other)).Value!.Status);
        await engine.SnapshotAsync(default).WaitAsync(Timeout);

        Assert.Equal(100, Sum(votes, ("outcome", "counted")));
        Assert.Equal(40, Sum(votes, ("outcome", "changed")));
        Assert.True(votes.GetMeasurementSnapshot().Count <= 4, "a batch adds per outcome, not per vote"); // a batch may be taken in two goes
        polls.RecordObservableInstruments();
        Assert.Equal(1, Last(polls, ("status", "open")));
        Assert.Equal(1, Last(polls, ("status", "closed")));
        Assert.Equal(1, Sum(snapshots));
    }

    [Fact]
    public async Task Engines_in_one_process_count_apart()
    {
        await using var a = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), new TallyEngineOptions());
        await using var b = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), new TallyEngineOptions());
        using var votesA = new MetricCollector<long>(a.Metrics.Meter, "tally.votes");
        using var votesB = new MetricCollector<long>(b.Metrics.Meter, "tally.votes");
        await a.StartAsync(default).WaitAsync(Timeout);
        await b.StartAsync(default).WaitAsync(Timeout);

        var poll = await CreatePollAsync(a, DedupePolicy.None);
        await a.CastVoteAsync(new CastVote(poll, [1], null, null));
        await a.CastVoteAsync(new CastVote(poll, [2], null, null));

        Assert.Equal(2, Sum(votesA));
        Assert.Empty(votesB.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task The_hub_counts_watchers_deltas_messages_and_overflows()
    {
        using var metrics = new TallyMetrics();
        await using var engine = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), new TallyEngineOptions(), metrics: metrics);
        // Not started: no publisher loop; the test flushes the poll's stream itself, so every step is synchronous.
        await using var hub = new LiveHub(engine.Catalog, new LiveOptions { ConnectionQueueCapacity = 2 }, metrics: metrics);
        using var watchers = new MetricCollector<int>(metrics.Meter, "tally.live.watchers");
        using var deltas = new MetricCollector<long>(metrics.Meter, "tally.live.deltas");
        using var messages = new MetricCollector<long>(metrics.Meter, "tally.live.messages");
        using var overflows = new MetricCollector<long>(metrics.Meter, "tally.live.overflows");
        await engine.StartAsync(default).WaitAsync(Timeout);
        var poll = await CreatePollAsync(engine, DedupePolicy.None);

        // Two watchers whose writers have not started: what they are offered waits in their queues (2 at most).
        var slow = new RecordingConnection(hub.Options);
        var other = new RecordingConnection(hub.Options);
        Assert.True(hub.Subscribe(slow, poll, since: null));           // snapshot
        Assert.True(hub.Subscribe(other, poll, since: null));          // snapshot
        watchers.RecordObservableInstruments();
        Assert.Equal(2, watchers.LastMeasurement?.Value);

        await engine.CastVoteAsync(new CastVote(poll, [1], null, null));
        Assert.True(hub.FindStream(poll)!.Flush());                    // a delta to both: their queues are full
        await engine.CastVoteAsync(new CastVote(poll, [2], null, null));
        Assert.True(hub.FindStream(poll)!.Flush());                    // a delta to both: both collapse to latest state

        Assert.Equal(2, Sum(deltas));
        Assert.Equal(2 + 2 + 2, Sum(messages));
        Assert.Equal(2, Sum(overflows));
        Assert.Equal(1, slow.Overflows);

        hub.Unsubscribe(other, poll);
        watchers.RecordObservableInstruments();
        Assert.Equal(1, watchers.LastMeasurement?.Value);
    }

    private static async Task<string> CreatePollAsync(TallyEngine engine, DedupePolicy dedupe, bool allowChange = false)
    {
        var outcome = await engine.CreatePollAsync(new CreatePoll("Which?", ["a", "b", "c"], Dedupe: dedupe, AllowChange: allowChange)).WaitAsync(Timeout);
        return outcome.Value?.Poll.Id ?? throw new InvalidOperationException(outcome.Rejection!.Detail);
    }

    /// <summary>The sum of the measurements that carry every tag given (all of them when none is).</summary>
    private static long Sum<T>(MetricCollector<T> collector, params (string Key, string Value)[] tags)
        where T : struct =>
        collector.GetMeasurementSnapshot().Where(m => Matches(m, tags)).Sum(m => Convert.ToInt64(m.Value, System.Globalization.CultureInfo.InvariantCulture));

    private static T? Last<T>(MetricCollector<T> collector, params (string Key, string Value)[] tags)
        where T : struct =>
        collector.GetMeasurementSnapshot().LastOrDefault(m => Matches(m, tags))?.Value;

    private static bool Matches<T>(CollectedMeasurement<T> measurement, (string Key, string Value)[] tags)
        where T : struct =>
        tags.All(t => measurement.Tags.TryGetValue(t.Key, out var v) && (string?)v == t.Value);
}
