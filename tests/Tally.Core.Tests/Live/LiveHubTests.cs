using Microsoft.Extensions.Time.Testing;
using Tally.Engine;
using Tally.Live;
using Tally.Polls;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Live;

public sealed class LiveHubTests : IAsyncLifetime
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(50);
    private readonly FakeTimeProvider _clock = new();
    private readonly LiveOptions _options = new() { Tick = Tick, Shards = 2, HistoryLength = 4, ConnectionQueueCapacity = 4, IdleStreamTimeout = TimeSpan.FromSeconds(2) };
    private readonly List<(RecordingConnection Connection, Task Run)> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private TallyEngine _engine = null!;
    private LiveHub _hub = null!;
    private string _poll = null!;

    public async Task InitializeAsync()
    {
        _engine = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), new TallyEngineOptions());
        _hub = new LiveHub(_engine.Catalog, _options, _clock);
        _hub.Start();
        await _engine.StartAsync(default);
        _poll = (await _engine.CreatePollAsync(new CreatePoll("Which?", ["a", "b", "c"], Dedupe: DedupePolicy.None))).Value!.Poll.Id;
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var (connection, run) in _connections)
        {
            connection.Release();
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
        }

        await _hub.DisposeAsync();
        await _engine.DisposeAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task A_new_watcher_gets_a_snapshot_with_every_option_and_the_watcher_count()
    {
        await VoteAsync(2);
        await FlushAsync(); // a snapshot is the state last sent to watchers; later changes follow as deltas
        var watcher = Watch(_poll);

        var snapshot = await watcher.NextAsync();

        Assert.Equal(LiveMessageKind.Snapshot, snapshot.Kind);
        Assert.Equal(2, snapshot.Seq);
        Assert.Equal([0L, 1L, 0L], snapshot.Results.Counts);
        Assert.Equal(1, snapshot.Watchers);
    }

    [Fact]
    public async Task A_change_after_a_quiet_tick_goes_out_at_once_with_the_absolute_counts_of_what_changed()
    {
        var watcher = await WatchQuietAsync();

        await VoteAsync(3);
        var delta = await watcher.NextAsync(); // the clock did not move: this is the leading edge

        Assert.Equal(LiveMessageKind.Delta, delta.Kind);
        Assert.Equal(2, delta.Seq);
        Assert.Equal(1, delta.PreviousSeq);
        Assert.Equal([new OptionCount(3, 1)], delta.Changes);
        Assert.Equal(1, delta.TotalVotes);
    }

    [Fact]
    public async Task A_change_of_the_watcher_count_alone_goes_out_at_most_once_per_presence_interval()
    {
        var first = await WatchQuietAsync(); // its own arrival was the first presence delta: sent at once
        var second = Watch(_poll);
        Assert.Equal(LiveMessageKind.Snapshot, (await second.NextAsync()).Kind);
        Watch(_poll); // a third, in the same interval

        // Ticks pass, but the presence interval has not: the count alone is held back.
        for (var elapsed = Tick; elapsed < _options.PresenceInterval - Tick; elapsed += Tick)
        {
            _clock.Advance(Tick);
        }

        await Eventually.WaitUntilAsync(() => _hub.FindStream(_poll)!.IsScheduled);
        Assert.False(first.HasMore);

        await AdvanceUntilAsync(() => first.HasMore);
        var presence = await first.NextAsync();
        Assert.True(presence.IsPresenceOnly);
        Assert.Equal(3, presence.Watchers); // both arrivals in one delta
    }

    [Fact]
    public async Task A_delta_with_new_counts_carries_a_changed_watcher_count_without_waiting_for_the_presence_interval()
    {
        var first = await WatchQuietAsync();
        Watch(_poll);
        await VoteAsync(1);

        var delta = await first.NextAsync(); // the leading edge: the clock did not move

        Assert.Equal([new OptionCount(1, 1)], delta.Changes);
        Assert.Equal(2, delta.Watchers);
    }

    [Fact]
    public async Task Watchers_on_other_nodes_are_added_to_the_count_in_snapshots_and_deltas()
    {
        var first = await WatchQuietAsync();
        _hub.SetWatchersElsewhere(_poll, 5); // cluster mode: read from Redis presence
        _hub.SetWatchersElsewhere("nosuchpoll", 7); // no stream here: nothing to do

        await AdvanceUntilAsync(() => first.HasMore);
        var presence = await first.NextAsync();
        Assert.True(presence.IsPresenceOnly);
        Assert.Equal(6, presence.Watchers);

        var second = Watch(_poll);
        Assert.Equal(7, (await second.NextAsync()).Watchers); // its snapshot: 2 here and 5 elsewhere
        Assert.Equal(2, _hub.WatcherCount(_poll)); // this node's own count (what it reports to Redis) is unchanged
    }

    [Fact]
    public async Task A_stream_left_idle_is_dropped_and_the_next_watcher_starts_from_the_current_results()
    {
        var watcher = await WatchQuietAsync();
        await VoteAsync(1);
        Assert.Equal(2, (await watcher.NextAsync()).Seq);
        _hub.Unsubscribe(watcher, _poll);

        await AdvanceUntilAsync(() => _hub.FindStream(_poll) is null); // no watcher, no change: retired and dropped
        await VoteAsync(2); // while no stream exists
        var late = Watch(_poll, since: 2); // the dropped stream's deltas are gone: a snapshot, never a gap

        var snapshot = await late.NextAsync();
        Assert.Equal(LiveMessageKind.Snapshot, snapshot.Kind);
        Assert.Equal(3, snapshot.Seq);
        Assert.Equal([1L, 1L, 0L], snapshot.Results.Counts);

        await VoteAsync(3);
        LiveMessage next;
        do
        {
            await AdvanceUntilAsync(() => late.HasMore);
            next = await late.NextAsync();
        }
        while (next.IsPresenceOnly);

        Assert.Equal(LiveMessageKind.Delta, next.Kind);
        Assert.Equal(4, next.Seq);
        Assert.Equal([new OptionCount(3, 1)], next.Changes);
    }

    [Fact]
    public async Task Changes_within_a_tick_of_the_last_delta_are_conflated_into_one()
    {
        var watcher = await WatchQuietAsync();
        await VoteAsync(1);
        Assert.Equal(2, (await watcher.NextAsync()).Seq); // leading edge

        await VoteAsync(1);
        await VoteAsync(2);
        await VoteAsync(1);
        await Eventually.WaitUntilAsync(() => _hub.FindStream(_poll)!.IsScheduled);
        Assert.False(watcher.HasMore); // held until a tick has passed since the last delta

        await AdvanceUntilAsync(() => watcher.HasMore);
        var conflated = await watcher.NextAsync();

        Assert.Equal(5, conflated.Seq);
        Assert.Equal(2, conflated.PreviousSeq);
        Assert.Equal([new OptionCount(1, 3), new OptionCount(2, 1)], conflated.Changes);
        Assert.Equal(4, conflated.TotalVotes);
    }

    [Fact]
    public async Task Every_watcher_gets_the_same_message_instance_so_it_is_encoded_once()
    {
        var first = await WatchQuietAsync();
        var second = Watch(_poll);
        await second.NextAsync(); // snapshot
        await AdvanceUntilAsync(() => first.HasMore);
        await first.NextAsync(); // presence: two watchers now
        await second.NextAsync();
        _clock.Advance(Tick);

        await VoteAsync(2);
        var a = await first.NextAsync();
        var b = await second.NextAsync();

        Assert.Same(a, b);
        var encodings = 0;
        Assert.Same(a.GetEncoded(0, _ => { encodings++; return [1]; }), b.GetEncoded(0, _ => { encodings++; return [2]; }));
        Assert.Equal(1, encodings);
    }

    [Fact]
    public async Task Resuming_within_the_history_gets_only_the_missed_deltas()
    {
        var first = await WatchQuietAsync();
        await VoteAsync(1);
        var seen = (await first.NextAsync()).Seq;
        _hub.Unsubscribe(first, _poll);

        for (var i = 0; i < 3; i++)
        {
            await VoteAsync(2);
            await FlushAsync(); // three deltas nobody watched, kept in the history
        }

        var resumed = Watch(_poll, since: seen);
        var caughtUp = new List<LiveMessage>();
        while (caughtUp.Count == 0 || caughtUp[^1].Seq < seen + 3)
        {
            var message = await resumed.NextAsync();
            Assert.Equal(LiveMessageKind.Delta, message.Kind);
            if (!message.IsPresenceOnly)
            {
                caughtUp.Add(message);
            }
        }

        Assert.All(caughtUp, m => Assert.True(m.Seq > seen));
        Assert.Equal(caughtUp.Select(m => m.Seq).Order(), caughtUp.Select(m => m.Seq));
        Assert.Equal(new OptionCount(2, 3), caughtUp[^1].Changes.Single());
    }

    [Fact]
    public async Task Resuming_from_before_the_history_gets_a_snapshot()
    {
        var watcher = await WatchQuietAsync();
        for (var i = 0; i < _options.HistoryLength + 2; i++)
        {
            await VoteAsync(1);
            await FlushAsync();
        }

        var late = Watch(_poll, since: 1);
        var first = await late.NextAsync();

        Assert.Equal(LiveMessageKind.Snapshot, first.Kind);
        Assert.Equal(_engine.Catalog.FindResults(_poll)!.Seq, first.Seq);
    }

    [Fact]
    public async Task A_watcher_that_does_not_read_is_collapsed_to_latest_state_and_never_holds_more_than_its_queue()
    {
        var slow = await WatchQuietAsync();
        var fast = Watch(_poll);
        await fast.NextAsync();
        slow.Hold();

        for (var i = 0; i < 20; i++)
        {
            await VoteAsync((i % 3) + 1);
            await FlushAsync();
            var delta = await fast.NextAsync(); // the others keep receiving every tick
            while (delta.IsPresenceOnly)
            {
                delta = await fast.NextAsync();
            }

            Assert.Equal(2 + i, delta.Seq);
        }

        Assert.True(slow.Overflows > 0);
        slow.Release();
        LiveMessage last;
        do
        {
            last = await slow.NextAsync();
        }
        while (last.Seq < 21);

        // After the backlog it wrote before the hold, the slow watcher got one fresh snapshot, not 20 deltas.
        Assert.Contains(slow.All, m => m.Kind == LiveMessageKind.Snapshot && m.Seq == 21);
        Assert.True(slow.All.Count <= 2 + _options.ConnectionQueueCapacity + 1, $"{slow.All.Count} messages");
    }

    [Fact]
    public async Task Resubscribing_after_a_resync_gets_every_catch_up_delta_it_asks_for()
    {
        var watcher = await WatchQuietAsync();
        watcher.Hold();
        for (var i = 0; i < _options.ConnectionQueueCapacity + 2; i++)
        {
            await VoteAsync(1);
            await FlushAsync();
        }

        Assert.True(watcher.Overflows > 0);
        watcher.Release();
        var resyncedAt = _engine.Catalog.FindResults(_poll)!.Seq;
        LiveMessage read;
        do
        {
            read = await watcher.NextAsync();
        }
        while (read.Kind != LiveMessageKind.Snapshot || read.Seq != resyncedAt);

        _hub.Unsubscribe(watcher, _poll);
        await VoteAsync(2);
        await FlushAsync();

        // Resume from before the resync point: the deltas at or below it must not be taken for stale ones.
        Assert.True(_hub.Subscribe(watcher, _poll, resyncedAt - 2));
        var caughtUp = new List<LiveMessage>();
        while (caughtUp.Count == 0 || caughtUp[^1].Seq < resyncedAt + 1)
        {
            var message = await watcher.NextAsync();
            if (!message.IsPresenceOnly)
            {
                caughtUp.Add(message);
            }
        }

        Assert.Equal([resyncedAt - 1, resyncedAt, resyncedAt + 1], caughtUp.Select(m => m.Seq));
    }

    [Fact]
    public async Task A_watcher_stuck_past_the_timeout_is_ended_as_too_slow()
    {
        var options = new LiveOptions { Tick = Tick, StuckTimeout = TimeSpan.FromMilliseconds(100) };
        var stuck = new RecordingConnection(options);
        stuck.Hold();
        _hub.Subscribe(stuck, _poll, null);

        await Assert.ThrowsAsync<SlowConsumerException>(() => stuck.RunAsync(_stop.Token).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Closing_a_poll_sends_a_final_delta_then_closed_and_a_late_watcher_gets_snapshot_and_closed()
    {
        var watcher = await WatchQuietAsync();
        await _engine.ClosePollAsync(_poll);

        var delta = await watcher.NextAsync();
        var closed = await watcher.NextAsync();
        Assert.Equal(LiveMessageKind.Delta, delta.Kind);
        Assert.Equal(PollStatus.Closed, delta.Status);
        Assert.Equal(LiveMessageKind.Closed, closed.Kind);

        var late = Watch(_poll);
        Assert.Equal(LiveMessageKind.Snapshot, (await late.NextAsync()).Kind);
        Assert.Equal(LiveMessageKind.Closed, (await late.NextAsync()).Kind);
    }

    [Fact]
    public async Task Resuming_a_closed_poll_from_its_last_seq_gets_closed_again()
    {
        var watcher = await WatchQuietAsync();
        await _engine.ClosePollAsync(_poll);
        var delta = await watcher.NextAsync();
        Assert.Equal(LiveMessageKind.Closed, (await watcher.NextAsync()).Kind);

        // Dropped after the delta, before "closed" (same seq): the resume must still say closed.
        var resumed = Watch(_poll, since: delta.Seq);

        var closed = await resumed.NextAsync();
        Assert.Equal(LiveMessageKind.Closed, closed.Kind);
        Assert.Equal(delta.Seq, closed.Seq);
    }

    [Fact]
    public void Subscribing_to_an_unknown_poll_is_refused() =>
        Assert.False(_hub.Subscribe(new RecordingConnection(_options), "nope", null));

    /// <summary>Moves the clock on, a tick at a time, until the poll's latest results have gone out to watchers.</summary>
    private Task FlushAsync()
    {
        var stream = _hub.FindStream(_poll)!;
        var target = _engine.Catalog.FindResults(_poll)!.Seq;
        return Eventually.WaitUntilAsync(() =>
        {
            if (stream.SentSeq == target && !stream.IsScheduled)
            {
                return true;
            }

            _clock.Advance(Tick);
            return false;
        });
    }

    /// <summary>
    /// Moves the clock a tick at a time until <paramref name="condition"/> holds. One step is not enough:
    /// the shard may arm its timer just after the clock moved, and a fake timer counts from when it is made.
    /// </summary>
    private Task AdvanceUntilAsync(Func<bool> condition) => Eventually.WaitUntilAsync(() =>
    {
        if (condition())
        {
            return true;
        }

        _clock.Advance(Tick);
        return false;
    });

    /// <summary>Subscribes, reads the snapshot and the presence delta, and lets a tick pass: the next change is a leading edge.</summary>
    private async Task<RecordingConnection> WatchQuietAsync()
    {
        var watcher = Watch(_poll);
        Assert.Equal(LiveMessageKind.Snapshot, (await watcher.NextAsync()).Kind);
        Assert.True((await watcher.NextAsync()).IsPresenceOnly);
        _clock.Advance(Tick);
        return watcher;
    }

    private RecordingConnection Watch(string poll, long? since = null)
    {
        var connection = new RecordingConnection(_options);
        Assert.True(_hub.Subscribe(connection, poll, since));
        _connections.Add((connection, connection.RunAsync(_stop.Token)));
        return connection;
    }

    private async Task VoteAsync(int option)
    {
        var outcome = await _engine.CastVoteAsync(new CastVote(_poll, [option], null, null));
        Assert.Equal(VoteStatus.Counted, outcome.Status);
    }
}
