using Tally.Live;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Core.Tests.Live;

/// <summary>
/// A delta's fan-out runs outside the stream's lock, over the watchers as they were when the delta was made:
/// subscribes and unsubscribes during a fan-out neither wait for it nor break any watcher's order.
/// </summary>
public sealed class PollStreamFanOutTests
{
    private static readonly string PollId = StandaloneStream.Poll.Id;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_subscribe_during_a_fan_out_neither_waits_for_it_nor_gets_the_delta_its_snapshot_holds()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var first = Watch(stream);
        var second = Watch(stream);
        var late = new LogConnection();
        LogConnection? resubscribed = null;
        var finished = DuringFirstDelta(first, second, other =>
        {
            resubscribed = other;
            Resubscribe(stream, other, since: null);
            late.Add(PollId, stream);
            stream.Subscribe(late, since: null);
            late.Start();
        });
        stream.OnChanged(StandaloneStream.Results(2, PollStatus.Open, 1, 0));
        Assert.True(stream.Flush());

        Assert.True(finished(), "the subscribes waited for the fan-out (or did not finish)");
        Assert.Equal([(LiveMessageKind.Snapshot, 2L)], late.Log.Select(m => (m.Kind, m.Seq)));

        // The resubscribed watcher's last message is its new snapshot: the delta it holds was dropped, or came first.
        Assert.NotNull(resubscribed);
        Assert.Equal((LiveMessageKind.Snapshot, 2L), (resubscribed.Log[^1].Kind, resubscribed.Log[^1].Seq));

        // The next delta reaches all three, continuing from seq 2.
        stream.OnChanged(StandaloneStream.Results(3, PollStatus.Open, 1, 1));
        Assert.True(stream.Flush());
        foreach (var watcher in new[] { first, second, late })
        {
            var last = watcher.Log[^1];
            Assert.Equal((LiveMessageKind.Delta, 2L, 3L), (last.Kind, last.PreviousSeq, last.Seq));
            Assert.Equal([1L, 1L], watcher.Counts);
        }
    }

    [Fact]
    public void A_watcher_that_unsubscribes_during_a_fan_out_gets_nothing_more()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var first = Watch(stream);
        var second = Watch(stream);
        var finished = DuringFirstDelta(first, second, other =>
        {
            other.Remove(PollId);
            stream.Unsubscribe(other);
        });
        stream.OnChanged(StandaloneStream.Results(2, PollStatus.Open, 1, 0));
        Assert.True(stream.Flush());
        Assert.True(finished());

        var gone = first.Polls.Count == 0 ? first : second;
        var stayed = ReferenceEquals(gone, first) ? second : first;
        Assert.Equal(1, stream.WatcherCount);
        var goneLog = gone.Log.Count;
        stream.OnChanged(StandaloneStream.Results(3, PollStatus.Open, 2, 0));
        Assert.True(stream.Flush());
        Assert.Equal(goneLog, gone.Log.Count);
        Assert.Equal([2L, 0L], stayed.Counts);
        Assert.Equal(3, stayed.Log[^1].Seq);
    }

    [Fact]
    public void A_poll_that_closes_during_resubscribes_says_closed_once_to_every_watcher()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var first = Watch(stream);
        var second = Watch(stream);
        var finished = DuringFirstDelta(first, second, other => Resubscribe(stream, other, since: 1));
        stream.OnChanged(StandaloneStream.Results(2, PollStatus.Closed, 1, 0));
        Assert.True(stream.Flush());
        Assert.True(finished());

        foreach (var watcher in new[] { first, second })
        {
            Assert.Equal(1, watcher.Log.Count(m => m.Kind == LiveMessageKind.Closed));
            Assert.Equal(LiveMessageKind.Closed, watcher.Log[^1].Kind);
            Assert.Equal([1L, 0L], watcher.Counts);
            Assert.Empty(watcher.Problems);
        }
    }

    /// <summary>200 seeds (~2 s); thousands passed when the fix for a fan-out overtaking a catch-up went in.</summary>
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 200)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task Under_concurrent_resubscribes_and_ticks_no_watcher_misses_a_change_or_ends_behind(int seed)
    {
        var counts = new long[2];
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var watchers = Enumerable.Range(0, 8).Select(_ => Watch(stream)).ToArray();
        const int Ticks = 400;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var publisher = Task.Run(() =>
        {
            for (var seq = 2; seq < Ticks + 2; seq++)
            {
                stop.Token.ThrowIfCancellationRequested();
                counts[seq % 2]++;
                stream.OnChanged(StandaloneStream.Results(seq, PollStatus.Open, counts[0], counts[1]));
                stream.Flush();
            }
        });
        var churns = Enumerable.Range(0, 2).Select(worker =>
        {
            var rnd = new Random(seed * 31 + worker);
            return Task.Run(() =>
            {
                // Each worker resubscribes its own half of the watchers, from a snapshot or from what the watcher has.
                while (!publisher.IsCompleted)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    var watcher = watchers[worker + 2 * rnd.Next(watchers.Length / 2)];
                    Resubscribe(stream, watcher, since: rnd.Next(2) == 0 ? null : watcher.LastSeq);
                }
            });
        }).ToArray();

        await publisher.WaitAsync(stop.Token);
        await Task.WhenAll(churns).WaitAsync(stop.Token);
        stream.Flush(); // the watcher count may still be owed

        // A connection that found a delta not continuing what its watcher had (one a fan-out that began before a
        // resubscribe offered ahead of the catch-up) writes fresh snapshots instead, on the thread pool.
        await Tally.Testing.Eventually.WaitUntilAsync(() => watchers.All(w => w.LastSeq == Ticks + 1), TimeSpan.FromSeconds(30));

        foreach (var watcher in watchers)
        {
            Assert.Empty(watcher.Problems);
            Assert.Equal(Ticks + 1, watcher.LastSeq);
            Assert.Equal(counts, watcher.Counts);
        }
    }

    /// <summary>
    /// While the fan-out writes its first delta (to either watcher, on the publisher's thread), runs
    /// <paramref name="meanwhile"/> with the other watcher on another thread and waits for it, bounded: the
    /// returned function says whether it finished (with a fan-out under the stream's lock it could not).
    /// </summary>
    private static Func<bool> DuringFirstDelta(LogConnection first, LogConnection second, Action<LogConnection> meanwhile)
    {
        var hooked = 0;
        var finished = false;
        void Hook(LogConnection writing, LiveMessage message)
        {
            if (message.Kind == LiveMessageKind.Delta && Interlocked.Exchange(ref hooked, 1) == 0)
            {
                var other = ReferenceEquals(writing, first) ? second : first;
                finished = Task.Run(() => meanwhile(other)).Wait(Bound);
            }
        }

        first.OnWrite = Hook;
        second.OnWrite = Hook;
        return () => finished;
    }

    private static LogConnection Watch(PollStream stream)
    {
        var connection = new LogConnection();
        connection.Add(PollId, stream);
        Assert.True(stream.Subscribe(connection, since: null));
        connection.Start();
        return connection;
    }

    private static void Resubscribe(PollStream stream, LogConnection connection, long? since)
    {
        connection.Remove(PollId);
        stream.Unsubscribe(connection);
        connection.Add(PollId, stream);
        stream.Subscribe(connection, since);
    }

    /// <summary>
    /// Writes at once on the offering thread and applies what it is sent as a client does: a snapshot sets the
    /// state; a delta applies when it continues from the seq the client has (previous seq at or before it, seq
    /// after it), is ignored when the client already has its seq, and is a gap otherwise.
    /// </summary>
    private sealed class LogConnection() : LiveConnection(new LiveOptions())
    {
        private readonly Lock _lock = new();
        private readonly List<LiveMessage> _log = [];
        private readonly List<string> _problems = [];
        private long[] _counts = [];
        private long _seq = -1;

        public Action<LogConnection, LiveMessage>? OnWrite { get; set; }

        public IReadOnlyList<LiveMessage> Log
        {
            get
            {
                lock (_lock)
                {
                    return [.. _log];
                }
            }
        }

        public IReadOnlyList<string> Problems
        {
            get
            {
                lock (_lock)
                {
                    return [.. _problems];
                }
            }
        }

        public long[] Counts
        {
            get
            {
                lock (_lock)
                {
                    return [.. _counts];
                }
            }
        }

        public long? LastSeq
        {
            get
            {
                lock (_lock)
                {
                    return _seq < 0 ? null : _seq;
                }
            }
        }

        protected override ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                _log.Add(message);
                Apply(message);
            }

            OnWrite?.Invoke(this, message);
            return ValueTask.CompletedTask;
        }

        private void Apply(LiveMessage message)
        {
            switch (message.Kind)
            {
                case LiveMessageKind.Snapshot:
                    _counts = [.. message.Results.Counts];
                    _seq = message.Seq;
                    break;
                case LiveMessageKind.Delta when message.Seq < _seq || (message.Seq == _seq && !message.IsPresenceOnly):
                    break; // already held
                case LiveMessageKind.Delta when _seq < 0 || message.PreviousSeq > _seq:
                    _problems.Add($"gap: delta {message.PreviousSeq}->{message.Seq} after {_seq}");
                    break;
                case LiveMessageKind.Delta:
                    foreach (var change in message.Changes)
                    {
                        _counts[change.Id - 1] = change.Votes;
                    }

                    _seq = message.Seq;
                    break;
            }
        }
    }
}
