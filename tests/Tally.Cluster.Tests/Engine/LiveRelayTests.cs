using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using NATS.Client.Core;
using Tally.Cluster.Engine;
using Tally.Cluster.Live;
using Tally.Cluster.Tests.Infrastructure;
using Tally.Polls;
using Tally.Projections;
using Tally.Testing;
using Tally.Testing.Engines;

namespace Tally.Cluster.Tests.Engine;

/// <summary>The owner's live relay on a real nats-server, its tick on a fake clock.</summary>
[Collection(ClusterCollection.Name)]
public sealed class LiveRelayTests(ClusterEngines engines)
{
    private static readonly TimeSpan Timeout = ClusterNodes.Timeout;

    private static readonly PollDefinition Poll = new(
        "relaypoll", "Which one?", PollKind.Single, 1, [new PollOption(1, "A"), new PollOption(2, "B")],
        DateTimeOffset.UnixEpoch, null, DedupePolicy.None, false);

    [Fact]
    public async Task A_quiet_polls_change_goes_out_at_once_and_a_burst_goes_out_as_one_message_per_tick_with_absolute_counts()
    {
        var options = new ClusterOptions { Replicas = 1, AllowFewerReplicas = true, Namespace = "relay" + Guid.NewGuid().ToString("N")[..8], LiveTick = TimeSpan.FromMilliseconds(50) };
        var time = new CountingTimeProvider();
        var catalog = new PollCatalog();
        await using var nats = new NatsConnection(new NatsOpts { Url = engines.Nats.Url });
        await using var updates = await nats.SubscribeCoreAsync<byte[]>(options.LiveSubject(Poll.Id));
        await nats.PingAsync(); // the subscription is on the server before anything is published
        await using var relay = new LiveRelay(nats, options, catalog, time, NullLogger.Instance);
        relay.Start();

        catalog.Publish(Results(1, 0, 0), 1);
        Assert.Equal(1, (await NextAsync(updates)).Seq); // leading edge: no tick waited
        await Eventually.WaitUntilAsync(() => time.Timers == 1, Timeout); // the relay waits out its tick now

        for (var seq = 2; seq <= 100; seq++)
        {
            catalog.Publish(Results(seq, seq / 2, (seq - 1) / 2), 1); // a burst within the tick
        }

        time.Advance(options.LiveTick);
        var burst = await NextAsync(updates);
        Assert.Equal(100, burst.Seq); // one message for the 99 changes, with the latest absolute counts
        Assert.Equal([50L, 49L], burst.Counts);
        Assert.Equal(99, burst.TotalVotes);
        await Eventually.WaitUntilAsync(() => time.Timers == 2, Timeout);

        catalog.Publish(Results(101, 51, 49), 1);
        time.Advance(options.LiveTick);
        Assert.Equal(101, (await NextAsync(updates)).Seq); // the next message on the subject: none came in between
        Assert.Equal(3, relay.Published);
    }

    private static PollResults Results(long seq, long a, long b) => new(Poll, seq, PollStatus.Open, null, a + b, [a, b]);

    private static async Task<LiveUpdate> NextAsync(INatsSub<byte[]> updates)
    {
        var message = await updates.Msgs.ReadAsync().AsTask().WaitAsync(Timeout);
        return ForwardedJson.Decode<LiveUpdate>(message.Data);
    }

    /// <summary>A fake clock that counts the timers made on it (each tick the relay waits out is one).</summary>
    private sealed class CountingTimeProvider : TimeProvider
    {
        private readonly FakeTimeProvider _inner = new();
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public void Advance(TimeSpan by) => _inner.Advance(by);

        public override DateTimeOffset GetUtcNow() => _inner.GetUtcNow();

        public override long GetTimestamp() => _inner.GetTimestamp();

        public override long TimestampFrequency => _inner.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            // Counted once the timer exists: a test that sees the count and advances the clock must find the timer registered.
            var timer = _inner.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }
    }
}
