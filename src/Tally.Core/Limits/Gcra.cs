namespace Tally.Limits;

/// <summary>
/// The generic cell rate algorithm, a token bucket kept as one number per bucket: its theoretical arrival time (TAT),
/// the moment it would be full again. Taking n tokens moves the TAT n emission intervals past max(TAT, now); the take
/// fits when the TAT then lies at most a whole bucket (the capacity, in time) ahead of now. A bucket whose TAT has
/// passed is full and can be forgotten. Redis runs the same arithmetic in its script (in microseconds).
/// </summary>
public static class Gcra
{
    /// <summary>
    /// Takes <paramref name="count"/> tokens when they fit (moving <paramref name="tat"/>); else leaves it and sets
    /// <paramref name="wait"/> to the time until they would. Times are in ticks of any one clock.
    /// </summary>
    public static bool TryTake(ref long tat, long now, int count, RateRule rule, out RateStanding standing, out TimeSpan wait)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var interval = rule.IntervalTicks;
        var capacity = rule.CapacityTicks;
        var start = Math.Max(tat, now);
        var next = start + (count * interval);
        var debt = next - now;
        if (debt > capacity)
        {
            standing = Stand(start - now, interval, capacity);
            wait = TimeSpan.FromTicks(debt - capacity);
            return false;
        }

        tat = next;
        standing = Stand(debt, interval, capacity);
        wait = TimeSpan.Zero;
        return true;
    }

    /// <summary>Gives back <paramref name="count"/> tokens taken a moment ago (another charge of the same request did not fit).</summary>
    public static void Refund(ref long tat, int count, RateRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        tat -= count * rule.IntervalTicks;
    }

    private static RateStanding Stand(long debt, long interval, long capacity) =>
        new(Math.Max(0, (capacity - debt) / interval), TimeSpan.FromTicks(Math.Max(0, debt)));
}
