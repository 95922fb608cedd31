using System.Collections.Concurrent;
using Tally.Polls;

namespace Tally.Projections;

/// <summary>
/// The read model every query uses: each poll's latest <see cref="PollResults"/> and the polls in
/// creation order. Written only by partitions after a durable commit; read from any thread.
/// </summary>
public sealed class PollCatalog
{
    private readonly ConcurrentDictionary<string, Entry> _polls = new(StringComparer.Ordinal);
    private readonly List<Entry> _byPosition = [];
    private readonly Lock _orderGate = new();
    private int _open;

    public int Count => _polls.Count;

    /// <summary>Polls whose latest results are open (a gauge; closed polls never reopen).</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>Raised on the committing partition's thread after every publication; handlers must not block.</summary>
    internal event Action<PollResults>? Published;

    /// <summary>The poll's definition, or null when no such poll is durable.</summary>
    public PollDefinition? FindPoll(string pollId) => _polls.TryGetValue(pollId, out var e) ? e.Results.Poll : null;

    /// <summary>The poll's latest results, or null when no such poll is durable.</summary>
    public PollResults? FindResults(string pollId) => _polls.TryGetValue(pollId, out var e) ? e.Results : null;

    /// <summary>Newest first: at most <paramref name="limit"/> polls created before <paramref name="beforePosition"/>.</summary>
    public IReadOnlyList<(PollResults Results, long Position)> List(int limit, long beforePosition)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var page = new List<(PollResults, long)>(Math.Min(limit, 64));
        lock (_orderGate)
        {
            var i = IndexAtOrAfter(beforePosition) - 1;
            for (; i >= 0 && page.Count < limit; i--)
            {
                page.Add((_byPosition[i].Results, _byPosition[i].Position));
            }
        }

        return page;
    }

    internal void Publish(PollResults results, long createdPosition)
    {
        if (_polls.TryGetValue(results.Poll.Id, out var existing))
        {
            if (existing.Results.Status == PollStatus.Open && results.Status == PollStatus.Closed)
            {
                Interlocked.Decrement(ref _open); // one writer per poll: this transition is seen once
            }

            existing.Results = results;
            Published?.Invoke(results);
            return;
        }

        var entry = new Entry(createdPosition) { Results = results };
        _polls[results.Poll.Id] = entry;
        if (results.Status == PollStatus.Open)
        {
            Interlocked.Increment(ref _open);
        }

        lock (_orderGate)
        {
            // Partitions commit independently, so creations can arrive slightly out of position order.
            var at = IndexAtOrAfter(createdPosition);
            _byPosition.Insert(at, entry);
        }

        Published?.Invoke(results);
    }

    /// <summary>The index of the first entry whose position is at least <paramref name="position"/>.</summary>
    private int IndexAtOrAfter(long position)
    {
        int lo = 0, hi = _byPosition.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_byPosition[mid].Position < position)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private sealed class Entry(long position)
    {
        private PollResults? _results;

        public long Position { get; } = position;

        public PollResults Results
        {
            get => Volatile.Read(ref _results)!;
            set => Volatile.Write(ref _results, value);
        }
    }
}
