using System.Text.Json.Nodes;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>
/// What a watcher knows, built the way a client should: a snapshot sets everything, a delta sets the
/// absolute counts it carries. Records every applied seq so tests can check nothing was applied twice.
/// </summary>
public sealed class LiveTally
{
    public Dictionary<int, long> Counts { get; } = [];

    public long Seq { get; private set; } = -1;

    public long TotalVotes { get; private set; }

    public int? Watchers { get; private set; }

    public bool Closed { get; private set; }

    /// <summary>Deltas that changed counts with a seq not above what the watcher already had: must stay empty.</summary>
    public List<long> StaleDeltas { get; } = [];

    public void Apply(string type, JsonObject data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var seq = (long)data["seq"]!;
        switch (type)
        {
            case "snapshot":
                Counts.Clear();
                foreach (var option in data["options"]!.AsArray())
                {
                    Counts[(int)option!["id"]!] = (long)option["votes"]!;
                }

                Seq = seq;
                TotalVotes = (long)data["totalVotes"]!;
                Watchers = (int?)data["watchers"];
                break;
            case "delta":
                var changes = data["changes"]!.AsArray();
                if (changes.Count > 0 && seq <= Seq)
                {
                    StaleDeltas.Add(seq);
                }

                foreach (var change in changes)
                {
                    Counts[(int)change!["id"]!] = (long)change["votes"]!;
                }

                Seq = Math.Max(Seq, seq);
                TotalVotes = (long)data["totalVotes"]!;
                if (data["watchers"] is { } watchers)
                {
                    Watchers = (int)watchers;
                }

                break;
            case "closed":
                Closed = true;
                break;
        }
    }

    public void Apply(SseEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Apply(e.Name, e.Data);
    }
}
