using Tally.Live;

namespace Tally.Core.Tests.Live;

/// <summary>A busy poll's deltas keep the tick's cadence through wake-up jitter, and never come faster to catch up.</summary>
public sealed class PublisherShardCadenceTests
{
    private const long Tick = 50_000;

    [Theory]
    [InlineData(100_000, 100_000, 150_000)] // on time: a tick after it was allowed
    [InlineData(100_000, 101_000, 150_000)] // a little late: the cadence holds
    [InlineData(100_000, 112_499, 150_000)] // just under a quarter tick late
    [InlineData(100_000, 112_500, 162_500)] // a quarter tick late or more: a new cadence from now
    [InlineData(100_000, 190_000, 240_000)] // an overloaded shard: no burst to catch up
    [InlineData(0, 5_000_000, 5_050_000)]   // a quiet stream's leading edge: a tick from now
    public void The_next_delta_is_allowed_a_tick_after_the_last_was_allowed_unless_it_was_far_late(long allowed, long now, long expected) =>
        Assert.Equal(expected, PublisherShard.NextAllowedAfter(allowed, now, Tick));

    [Fact]
    public void Over_many_ticks_with_jitter_the_rate_is_one_delta_per_tick_and_no_gap_is_shorter_than_three_quarters_of_one()
    {
        var random = new Random(7);
        long allowed = 0, sent = 0, previous = long.MinValue, deltas = 0;
        var shortest = long.MaxValue;
        for (var i = 0; i < 10_000; i++)
        {
            sent = Math.Max(sent, allowed) + random.Next(0, (int)(Tick / 10)); // each delta goes out up to a tenth of a tick late
            if (previous != long.MinValue)
            {
                shortest = Math.Min(shortest, sent - previous);
            }

            previous = sent;
            deltas++;
            allowed = PublisherShard.NextAllowedAfter(allowed, sent, Tick);
        }

        Assert.InRange(sent / (double)(deltas * Tick), 0.99, 1.01); // one per tick: the jitter did not stretch the ticks
        Assert.True(shortest >= Tick * 3 / 4, $"two deltas {shortest} apart");
    }
}
