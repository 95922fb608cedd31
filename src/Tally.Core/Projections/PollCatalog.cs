using System.Collections.Concurrent;
using Tally.Polls;

namespace Tally.Projections;

/// <summary>
/// The read model every query uses: each poll's latest <see cref="PollResults"/> and the polls in
/// creation order. Written by one writer per poll (an embedded partition after a durable commit, or a cluster
/// node's follower with the owner's updates); read from any thread.
/// </summary>
public sealed class PollCatalog
{
    private readonly ConcurrentDictionary<string, Entry> _polls = new(StringComparer.Ordinal);
    private readonly List<Entry> _byPosition = [];
    private readonly Lock _orderGate = new();
    private int _open;

    public int Count => _polls.Count;

    /// <summary>Polls whose latest results are not closed: open, paused, draft or scheduled (a gauge).</summary>
    public int OpenCount => Volatile.Read(ref _open);

    /// <summary>
    /// Raised after every <see cref="Publish"/>, on the publishing writer's thread, with the results just published;
    /// handlers must not block (the live hub and cluster mode's relays only mark the poll as changed).
    /// </summary>
    public event Action<PollResults>? Published;

    /// <summary>The poll's definition, or null when no such poll is durable.</summary>
    public PollDefinition? FindPoll(string pollId) => _polls.TryGetValue(pollId, out var e) ? e.Results.Poll : null;

    /// <summary>The poll's latest results, or null when no such poll is durable.</summary>
    public PollResults? FindResults(string pollId) => _polls.TryGetValue(pollId, out var e) ? e.Results : null;

    /// <summary>The position the poll's creation has in the log (as published with it), or null for an unknown poll.</summary>
    public long? FindPosition(string pollId) => _polls.TryGetValue(pollId, out var e) ? e.Position : null;

    /// <summary>Newest first: at most <paramref name="limit"/> polls created before <paramref name="beforePosition"/>, only <paramref name="workspace"/>'s when given.</summary>
    public IReadOnlyList<(PollResults Results, long Position)> List(int limit, long beforePosition, string? workspace = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var page = new List<(PollResults, long)>(Math.Min(limit, 64));
        lock (_orderGate)
        {
            var i = IndexAtOrAfter(beforePosition) - 1;
            for (; i >= 0 && page.Count < limit; i--)
            {
                if (workspace is null || _byPosition[i].Results.Poll.Workspace == workspace)
                {
                    page.Add((_byPosition[i].Results, _byPosition[i].Position));
                }
            }
        }

        return page;
    }

    /// <summary>
    /// Newest first by creation time, then poll id: at most <paramref name="limit"/> polls that come after
    /// (<paramref name="createdAt"/>, <paramref name="pollId"/>) in that order, or the newest when those are null.
    /// It looks at every poll (a cluster partition's share; creation time is the order all partitions share).
    /// </summary>
    public IReadOnlyList<PollResults> ListByCreation(int limit, DateTimeOffset? createdAt, string? pollId, string? workspace = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var page = new List<PollResults>();
        foreach (var entry in _polls.Values)
        {
            var poll = entry.Results.Poll;
            if ((workspace is not null && poll.Workspace != workspace) || (createdAt is { } at && CompareCreation(poll, at, pollId!) >= 0))
            {
                continue;
            }

            page.Add(entry.Results);
        }

        page.Sort(static (a, b) => CompareCreation(b.Poll, a.Poll.CreatedAt, a.Poll.Id));
        if (page.Count > limit)
        {
            page.RemoveRange(limit, page.Count - limit);
        }

        return page;
    }

    /// <summary>The order of <see cref="ListByCreation"/>, oldest first: creation time, then id (ordinal).</summary>
    public static int CompareCreation(PollDefinition poll, DateTimeOffset createdAt, string pollId)
    {
        var byTime = poll.CreatedAt.CompareTo(createdAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(poll.Id, pollId);
    }

    /// <summary>
    /// Makes <paramref name="results"/> the poll's latest, then raises <see cref="Published"/>. Only the poll's one
    /// writer calls it, with results newer than the ones it replaces; <paramref name="createdPosition"/> places a poll
    /// seen for the first time in <see cref="List"/>'s order (its creation's position in the writer's log, or any
    /// increasing number) and is ignored afterwards.
    /// </summary>
    public void Publish(PollResults results, long createdPosition)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (_polls.TryGetValue(results.Poll.Id, out var existing))
        {
            if (existing.Results.Status != PollStatus.Closed && results.Status == PollStatus.Closed)
            {
                Interlocked.Decrement(ref _open); // one writer per poll: this transition is seen once
            }
            else if (existing.Results.Status == PollStatus.Closed && results.Status != PollStatus.Closed)
            {
                Interlocked.Increment(ref _open); // reopened
            }

            existing.Results = results;
            Published?.Invoke(results);
            return;
        }

        var entry = new Entry(createdPosition) { Results = results };
        _polls[results.Poll.Id] = entry;
        if (results.Status != PollStatus.Closed)
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
