namespace Tally.Limits;

/// <summary>
/// One token bucket: <see cref="Burst"/> tokens at most, refilled at <see cref="Rate"/> a second. A vote takes a token
/// (a batch one per vote); a full bucket lets <see cref="Burst"/> votes through at once, then <see cref="Rate"/> a second.
/// </summary>
public sealed class RateRule
{
    /// <summary>Tokens added per second; 0 turns this bucket off.</summary>
    public double Rate { get; set; }

    /// <summary>The bucket's size: the most a request (or a quick run of them) may take at once.</summary>
    public int Burst { get; set; }

    public bool Enabled => Rate > 0;

    /// <summary>Time (ticks of 100 ns) one token takes to come back: GCRA's emission interval.</summary>
    public long IntervalTicks => (long)Math.Max(1, Math.Round(TimeSpan.TicksPerSecond / Rate));

    /// <summary>Time (ticks) an empty bucket takes to fill: GCRA's tolerance, the whole bucket in time.</summary>
    public long CapacityTicks => IntervalTicks * Burst;

    /// <summary>Seconds an empty bucket takes to fill, rounded up (at least 1): the window of the <c>RateLimit-Policy</c> header.</summary>
    public long WindowSeconds => Math.Max(1, (long)Math.Ceiling(Burst / Rate));

    public override string ToString() => $"{Rate:0.###}/s, burst {Burst}";
}
