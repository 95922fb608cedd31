using Microsoft.Extensions.Time.Testing;
using Tally.Limits;

namespace Tally.Core.Tests.Limits;

/// <summary>The token bucket's arithmetic (GCRA) on a clock the test moves: burst, steady rate, refill, retry-after, all or nothing, bounded memory.</summary>
public sealed class InMemoryRateLimiterTests
{
    /// <summary>10 a second (a token every 100 ms), 20 at once.</summary>
    private static readonly RateRule TenASecond = new() { Rate = 10, Burst = 20 };

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void A_full_bucket_lets_its_burst_through_at_once_then_one_token_per_interval()
    {
        var limiter = new InMemoryRateLimiter(_time);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(Take(limiter, 1, 1).Allowed, $"take {i + 1} of the burst");
        }

        var refused = Take(limiter, 1, 1);
        Assert.False(refused.Allowed);
        Assert.Equal(0, refused.RefusedAt);
        Assert.Equal(TimeSpan.FromMilliseconds(100), refused.RetryAfter); // one interval until the next token

        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(Take(limiter, 1, 1).Allowed);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(Take(limiter, 1, 1).Allowed);
        Assert.False(Take(limiter, 1, 1).Allowed);

        // Steady: one token every 100 ms, never two.
        for (var i = 0; i < 50; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.True(Take(limiter, 1, 1).Allowed);
            Assert.False(Take(limiter, 1, 1).Allowed);
        }
    }

    [Fact]
    public void A_bucket_refills_to_its_burst_and_no_further()
    {
        var limiter = new InMemoryRateLimiter(_time);
        Assert.True(Take(limiter, 1, 20).Allowed);
        _time.Advance(TimeSpan.FromMilliseconds(500)); // 5 tokens back
        Assert.False(Take(limiter, 1, 6).Allowed);
        var five = Take(limiter, 1, 5);
        Assert.True(five.Allowed);
        Assert.Equal(new RateStanding(0, TimeSpan.FromSeconds(2)), five.Standings[0]);

        _time.Advance(TimeSpan.FromHours(1)); // idle for long: full, not fuller
        var full = Take(limiter, 1, 20);
        Assert.True(full.Allowed);
        Assert.False(Take(limiter, 1, 1).Allowed);
    }

    [Fact]
    public void Standings_say_the_tokens_left_and_the_time_until_full_and_a_refusal_when_the_take_would_fit()
    {
        var limiter = new InMemoryRateLimiter(_time);
        var first = Take(limiter, 1, 1);
        Assert.Equal(new RateStanding(19, TimeSpan.FromMilliseconds(100)), first.Standings[0]);
        var more = Take(limiter, 1, 15);
        Assert.Equal(new RateStanding(4, TimeSpan.FromMilliseconds(1600)), more.Standings[0]);

        var refused = Take(limiter, 1, 10); // 4 left: 6 more tokens, 600 ms
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(600), refused.RetryAfter);
        Assert.Equal(new RateStanding(4, TimeSpan.FromMilliseconds(1600)), refused.Standings[0]); // nothing was taken

        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.True(Take(limiter, 1, 10).Allowed);
    }

    [Fact]
    public void A_take_larger_than_the_burst_never_fits()
    {
        var limiter = new InMemoryRateLimiter(_time);
        var tooBig = Take(limiter, 1, 21);
        Assert.False(tooBig.Allowed);
        _time.Advance(TimeSpan.FromDays(1));
        Assert.False(Take(limiter, 1, 21).Allowed);
        Assert.True(Take(limiter, 1, 20).Allowed);
    }

    [Fact]
    public void Charges_are_taken_all_or_none_and_a_refusal_waits_for_the_slowest()
    {
        var limiter = new InMemoryRateLimiter(_time);
        var voterRule = new RateRule { Rate = 1, Burst = 2 };
        Assert.True(Charge(limiter, (RateSubject.Ip, 1, 1, TenASecond), (RateSubject.Voter, 7, 2, voterRule)).Allowed);

        // The address has room; the voter does not: neither is taken.
        var refused = Charge(limiter, (RateSubject.Ip, 1, 5, TenASecond), (RateSubject.Voter, 7, 1, voterRule));
        Assert.False(refused.Allowed);
        Assert.Equal(1, refused.RefusedAt);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(19, Charge(limiter, (RateSubject.Ip, 1, 0, TenASecond)).Standings[0].Remaining); // the 5 came back

        // Both short: the answer waits for the one that needs longer.
        Assert.True(Charge(limiter, (RateSubject.Ip, 1, 19, TenASecond)).Allowed);
        var both = Charge(limiter, (RateSubject.Ip, 1, 3, TenASecond), (RateSubject.Voter, 7, 2, voterRule));
        Assert.False(both.Allowed);
        Assert.Equal(0, both.RefusedAt);
        Assert.Equal(TimeSpan.FromSeconds(2), both.RetryAfter);
    }

    [Fact]
    public void Subjects_and_buckets_are_apart()
    {
        var limiter = new InMemoryRateLimiter(_time);
        Assert.True(Charge(limiter, (RateSubject.Ip, 1, 20, TenASecond)).Allowed);
        Assert.False(Charge(limiter, (RateSubject.Ip, 1, 1, TenASecond)).Allowed);
        Assert.True(Charge(limiter, (RateSubject.NewVoter, 1, 20, TenASecond)).Allowed); // the same address, another subject
        Assert.True(Charge(limiter, (RateSubject.Ip, 2, 20, TenASecond)).Allowed); // another address
        var ipv6 = (UInt128)0x2001_0db8_0001_0002UL << 64;
        Assert.True(Charge(limiter, (RateSubject.Ip, ipv6, 20, TenASecond)).Allowed);
        Assert.False(Charge(limiter, (RateSubject.Ip, ipv6, 1, TenASecond)).Allowed);
    }

    [Fact]
    public void Memory_stays_bounded_under_a_flood_of_distinct_clients_and_full_buckets_go_first()
    {
        var limiter = new InMemoryRateLimiter(_time, maxBuckets: 1_600);
        var patient = new RateRule { Rate = 0.01, Burst = 5 };
        Assert.True(Charge(limiter, (RateSubject.Ip, 42, 5, patient)).Allowed); // one client in debt for 500 s

        // Clients whose buckets are full again a moment later: dropped first, the indebted one kept.
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(Charge(limiter, (RateSubject.Ip, (UInt128)(1_000 + i), 1, TenASecond)).Allowed);
            if (i % 100 == 0)
            {
                _time.Advance(TimeSpan.FromMilliseconds(200));
            }
        }

        Assert.InRange(limiter.Count, 1, 1_600);
        Assert.Equal(0, limiter.Evicted);
        Assert.False(Charge(limiter, (RateSubject.Ip, 42, 1, patient)).Allowed); // still remembered

        // A flood of clients that all stay in debt: the bound holds, by forgetting some of them.
        for (var i = 0; i < 10_000; i++)
        {
            Charge(limiter, (RateSubject.Ip, (UInt128)(100_000 + i), 5, patient));
        }

        Assert.InRange(limiter.Count, 1, 1_600);
        Assert.True(limiter.Evicted > 0);
    }

    private static RateDecision Take(InMemoryRateLimiter limiter, UInt128 bucket, int count) => Charge(limiter, (RateSubject.Ip, bucket, count, TenASecond));

    private static RateDecision Charge(InMemoryRateLimiter limiter, params (RateSubject Subject, UInt128 Bucket, int Count, RateRule Rule)[] charges) =>
        limiter.Take([.. charges.Select(c => new RateCharge(c.Subject, c.Bucket, c.Count, c.Rule))]);
}
