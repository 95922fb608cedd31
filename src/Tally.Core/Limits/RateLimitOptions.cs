namespace Tally.Limits;

/// <summary>Settings under <c>Tally:RateLimit</c>: at most <see cref="Votes"/> votes per client per <see cref="Window"/>.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Votes one client may cast per window (a batch counts each vote); 0 turns the limit off.</summary>
    public int Votes { get; set; }

    /// <summary>The window, fixed from the client's first vote in it.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    public bool Enabled => Votes > 0;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Votes, "Tally:RateLimit:Votes");
        ArgumentOutOfRangeException.ThrowIfLessThan(Window, TimeSpan.FromMilliseconds(10), "Tally:RateLimit:Window");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Window, TimeSpan.FromDays(1), "Tally:RateLimit:Window");
    }
}
