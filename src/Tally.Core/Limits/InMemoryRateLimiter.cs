using System.Runtime.InteropServices;

namespace Tally.Limits;

/// <summary>
/// Embedded mode's buckets (and a cluster node's while Redis is away): GCRA time stamps in memory, per subject, in
/// shards with a lock each. Memory is bounded by <paramref name="maxBuckets"/>: when a shard is full it first drops the
/// buckets that are full again (forgetting them changes nothing), and only when a flood of distinct clients keeps more
/// than that many buckets busy does it drop the emptiest-looking quarter too (those clients start over with a full
/// bucket). System.Threading.RateLimiting's partitioned token bucket was not used: it refills on a timer that walks
/// every partition, reads the Stopwatch rather than a <see cref="TimeProvider"/>, and keeps partitions for 10 s of
/// idleness with no upper bound on their number.
/// </summary>
public sealed class InMemoryRateLimiter : IRateLimiter
{
    private const int ShardCount = 16;

    private readonly Shard[][] _shards;
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly int _shardCapacity;
    private long _evicted;

    public InMemoryRateLimiter(TimeProvider time, int maxBuckets = 100_000)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBuckets, ShardCount);
        _time = time;
        _origin = time.GetTimestamp();
        _shardCapacity = maxBuckets / ShardCount;
        var subjects = Enum.GetValues<RateSubject>().Length;
        _shards = new Shard[subjects][];
        for (var s = 0; s < subjects; s++)
        {
            _shards[s] = new Shard[ShardCount];
            for (var i = 0; i < ShardCount; i++)
            {
                _shards[s][i] = new Shard();
            }
        }
    }

    /// <summary>Buckets held now, over every subject.</summary>
    public int Count => _shards.Sum(subject => subject.Sum(shard => shard.Count));

    /// <summary>Buckets dropped before they were full (a flood of distinct clients past the bound).</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    public ValueTask<RateDecision> TakeAsync(ReadOnlyMemory<RateCharge> charges, CancellationToken cancellationToken) => ValueTask.FromResult(Take(charges.Span));

    /// <summary>Takes every charge, or none of them.</summary>
    public RateDecision Take(ReadOnlySpan<RateCharge> charges)
    {
        var now = _time.GetElapsedTime(_origin).Ticks + TimeSpan.TicksPerDay; // above 0, the TAT of a bucket never seen
        var standings = new RateStanding[charges.Length];
        for (var i = 0; i < charges.Length; i++)
        {
            var charge = charges[i];
            if (ShardOf(charge).TryTake(charge, now, _shardCapacity, ref _evicted, out standings[i], out var wait))
            {
                continue;
            }

            for (var k = 0; k < i; k++)
            {
                ShardOf(charges[k]).Refund(charges[k]);
            }

            // When every charge fits again: the longest wait of them all (the others are only looked at).
            for (var k = i + 1; k < charges.Length; k++)
            {
                var later = ShardOf(charges[k]).Peek(charges[k], now, out standings[k]);
                wait = later > wait ? later : wait;
            }

            return new RateDecision(false, i, wait, standings);
        }

        return new RateDecision(true, -1, TimeSpan.Zero, standings);
    }

    // Both halves of the bucket: an IPv6 client's /64 is all in the upper one.
    private Shard ShardOf(in RateCharge charge) => _shards[(int)charge.Subject][(int)(((ulong)charge.Bucket ^ (ulong)(charge.Bucket >> 64)) % ShardCount)];

    private sealed class Shard
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<UInt128, long> _tats = [];

        public int Count
        {
            get
            {
                lock (_lock)
                {
                    return _tats.Count;
                }
            }
        }

        public bool TryTake(in RateCharge charge, long now, int capacity, ref long evicted, out RateStanding standing, out TimeSpan wait)
        {
            lock (_lock)
            {
                if (_tats.Count >= capacity && !_tats.ContainsKey(charge.Bucket))
                {
                    Interlocked.Add(ref evicted, Trim(now, capacity));
                }

                ref var tat = ref CollectionsMarshal.GetValueRefOrAddDefault(_tats, charge.Bucket, out _);
                var taken = Gcra.TryTake(ref tat, now, charge.Count, charge.Rule, out standing, out wait);
                if (tat <= now)
                {
                    _tats.Remove(charge.Bucket); // full (a refused first take): nothing to keep
                }

                return taken;
            }
        }

        public void Refund(in RateCharge charge)
        {
            lock (_lock)
            {
                ref var tat = ref CollectionsMarshal.GetValueRefOrNullRef(_tats, charge.Bucket);
                if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref tat))
                {
                    Gcra.Refund(ref tat, charge.Count, charge.Rule);
                }
            }
        }

        public TimeSpan Peek(in RateCharge charge, long now, out RateStanding standing)
        {
            lock (_lock)
            {
                var tat = _tats.GetValueOrDefault(charge.Bucket);
                Gcra.TryTake(ref tat, now, charge.Count, charge.Rule, out standing, out var wait);
                return wait;
            }
        }

        /// <summary>Drops the full buckets; when that is not enough, the quarter closest to full as well. Returns how many of those.</summary>
        private int Trim(long now, int capacity)
        {
            foreach (var (bucket, tat) in _tats)
            {
                if (tat <= now)
                {
                    _tats.Remove(bucket); // allowed while enumerating a Dictionary
                }
            }

            if (_tats.Count == 0 || _tats.Count < capacity * 9 / 10)
            {
                return 0;
            }

            var tats = _tats.Values.ToArray();
            Array.Sort(tats);
            var keep = capacity * 3 / 4;
            var below = tats[tats.Length - keep - 1];
            var dropped = 0;
            foreach (var (bucket, tat) in _tats)
            {
                if (tat <= below && _tats.Count > keep)
                {
                    _tats.Remove(bucket);
                    dropped++;
                }
            }

            return dropped;
        }
    }
}
