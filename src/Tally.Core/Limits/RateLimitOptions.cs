namespace Tally.Limits;

/// <summary>
/// Settings under <c>Tally:RateLimit</c>: token buckets (GCRA) that every vote takes from, whatever its transport, and
/// the one anonymous voter ids take from. On by default, sized for a large room behind one NAT (5,000 votes at once
/// from one address, then 500 a second), well below what one script can send. A request that does not fit is refused
/// whole (429 + <c>Retry-After</c>) and takes nothing. Embedded mode keeps the buckets in memory, cluster mode in Redis.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>Every rate limit at once (the votes' and the voter ids'); false turns them all off. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Votes per client address (an IPv6 client's /64), for callers without an API key. Default 500 a second, a burst of
    /// 5,000. A batch larger than the burst can never pass.
    /// </summary>
    public RateRule Ip { get; set; } = new() { Rate = 500, Burst = 5_000 };

    /// <summary>Votes per voter (the one the poll's voter identity resolved, within its workspace): a voter changing their vote. Default 10 a second, a burst of 20.</summary>
    public RateRule Voter { get; set; } = new() { Rate = 10, Burst = 20 };

    /// <summary>
    /// Votes per API key (and for the root key), in place of the address's bucket: a backend with <c>votes:write</c> votes for
    /// many users from one address. Default 20,000 a second, a burst of 40,000 (four full batches).
    /// </summary>
    public RateRule Key { get; set; } = new() { Rate = 20_000, Burst = 40_000 };

    /// <summary>
    /// New anonymous voter ids (<c>POST /v1/voters</c>) per client address: cheaper to abuse than votes, since each id is
    /// another voter on anonymous polls. Default 50 a second, a burst of 2,000 (a room of 5,000 gets its ids within a minute).
    /// </summary>
    public RateRule NewVoters { get; set; } = new() { Rate = 50, Burst = 2_000 };

    /// <summary>
    /// Join-code lookups and event joins per client address: what keeps a script from finding live events by trying codes
    /// (31^7 of them) or a passcode by trying passcodes. Default 2 a second, a burst of 600 (a room of 300 behind one NAT
    /// looks its code up and joins at once); one address then tries at most ~170,000 codes a day.
    /// </summary>
    public RateRule JoinCodes { get; set; } = new() { Rate = 2, Burst = 600 };

    /// <summary>
    /// The fixed-window setting of earlier versions: votes per client per <see cref="Window"/>. When set, it replaces
    /// <see cref="Ip"/>: a burst of <c>Votes</c>, refilled at <c>Votes / Window</c> a second; 0 turns the address's bucket off
    /// (as 0 turned the old limit off). Unset by default.
    /// </summary>
    public int? Votes { get; set; }

    /// <summary>The window of <see cref="Votes"/>. Default 1 s.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most buckets embedded mode keeps in memory (each ~50 bytes; full buckets are dropped first). Default 100,000.</summary>
    public int MaxBuckets { get; set; } = 100_000;

    /// <summary>The address's rule in force: <see cref="Ip"/>, or the one <see cref="Votes"/> and <see cref="Window"/> map to.</summary>
    public RateRule EffectiveIp => Votes is { } votes
        ? new RateRule { Rate = votes / Window.TotalSeconds, Burst = votes }
        : Ip;
}
