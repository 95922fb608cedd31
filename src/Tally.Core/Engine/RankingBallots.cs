using Tally.Events;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// Every ballot of a ranking poll, kept as distinct rankings with their number of ballots: what the instant-runoff
/// count needs, whether or not the poll keeps ballots per voter (<c>dedupe: none</c> does not). Memory grows with the
/// distinct rankings, at most the ballots; each ranking is a short string (one char per option id).
/// </summary>
internal sealed class RankingBallots
{
    private readonly Dictionary<string, long> _rankings = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="delta"/> ballots (negative: removes them) ranking <paramref name="optionIds"/> in that order.</summary>
    public void Add(int[] optionIds, long delta)
    {
        var key = InstantRunoff.Key(optionIds);
        var count = (_rankings.TryGetValue(key, out var was) ? was : 0) + delta;
        if (count == 0)
        {
            _rankings.Remove(key);
        }
        else
        {
            _rankings[key] = count;
        }
    }

    /// <summary>The instant-runoff count over every ballot now.</summary>
    public RankingResults Results(int options, long ballots)
    {
        var keys = new string[_rankings.Count];
        var counts = new long[_rankings.Count];
        var i = 0;
        foreach (var (key, count) in _rankings)
        {
            keys[i] = key;
            counts[i++] = count;
        }

        return new RankingResults(ballots, InstantRunoff.Count(options, keys, counts));
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_rankings.Count);
        foreach (var (key, count) in _rankings)
        {
            EventCodec.WriteIds(w, Decode(key));
            w.Write(count);
        }
    }

    public void Read(BinaryReader r)
    {
        var distinct = r.ReadInt32();
        for (var i = 0; i < distinct; i++)
        {
            Add(EventCodec.ReadIds(r), r.ReadInt64());
        }
    }

    private static int[] Decode(string key)
    {
        var ids = new int[key.Length];
        for (var i = 0; i < key.Length; i++)
        {
            ids[i] = key[i];
        }

        return ids;
    }
}
