using System.Text.Json.Nodes;

namespace Tally.Server.Tests.Live;

/// <summary>
/// What a watcher knows of its polls, built the way a client would: a snapshot sets the counts, a delta sets
/// the absolute counts of the options it names. Asserts the stream guarantees as it goes: a poll's first
/// message is a snapshot (unless resuming), and no delta goes back — every delta has a seq above the one
/// known, except a presence-only delta (no changes), which repeats it.
/// </summary>
public sealed class LiveView
{
    private readonly Dictionary<string, PollView> _polls = new(StringComparer.Ordinal);

    public sealed class PollView
    {
        public long Seq { get; set; }

        public long TotalVotes { get; set; }

        public int? Watchers { get; set; }

        public string Status { get; set; } = "open";

        public Dictionary<int, long> Counts { get; } = [];

        public int Snapshots { get; set; }

        public int Deltas { get; set; }
    }

    public PollView this[string pollId] => _polls[pollId];

    public long SeqOf(string pollId) => _polls.TryGetValue(pollId, out var poll) ? poll.Seq : -1;

    /// <summary>Continues from what another view (an earlier connection) knew, as a resuming client does.</summary>
    public void Resume(string pollId, PollView known)
    {
        var poll = new PollView { Seq = known.Seq, TotalVotes = known.TotalVotes, Watchers = known.Watchers, Status = known.Status };
        foreach (var (id, votes) in known.Counts)
        {
            poll.Counts[id] = votes;
        }

        _polls[pollId] = poll;
    }

    /// <summary>Applies a live message (snapshot, delta, closed); other messages (ack, error, pong) are ignored.</summary>
    public void Apply(JsonObject message)
    {
        var type = (string?)message["type"];
        if (type is not ("snapshot" or "delta" or "closed"))
        {
            return;
        }

        var pollId = (string)message["pollId"]!;
        var seq = (long)message["seq"]!;
        switch (type)
        {
            case "snapshot":
                var snapshot = _polls[pollId] = new PollView { Seq = seq, Snapshots = SnapshotsOf(pollId) + 1 };
                snapshot.TotalVotes = (long)message["totalVotes"]!;
                snapshot.Status = (string)message["status"]!;
                snapshot.Watchers = (int)message["watchers"]!;
                foreach (var option in message["options"]!.AsArray())
                {
                    Assert.False(string.IsNullOrEmpty((string?)option!["text"]));
                    snapshot.Counts[(int)option["id"]!] = (long)option["votes"]!;
                }

                break;
            case "delta":
                Assert.True(_polls.TryGetValue(pollId, out var poll), $"a delta of {pollId} before its snapshot: {message.ToJsonString()}");
                var changes = message["changes"]!.AsArray();
                if (changes.Count == 0 && seq == poll.Seq)
                {
                    Assert.NotNull(message["watchers"]); // presence only
                }
                else
                {
                    Assert.True(seq > poll.Seq, $"a delta that goes back: seq {seq} after {poll.Seq}: {message.ToJsonString()}");
                }

                foreach (var change in changes)
                {
                    var id = (int)change!["id"]!;
                    Assert.True(poll.Counts.ContainsKey(id), $"a change of unknown option {id}");
                    poll.Counts[id] = (long)change["votes"]!;
                }

                poll.Seq = seq;
                poll.TotalVotes = (long)message["totalVotes"]!;
                poll.Deltas++;
                if (message["watchers"] is { } watchers)
                {
                    poll.Watchers = (int)watchers;
                }

                break;
            default:
                Assert.True(_polls.TryGetValue(pollId, out var closed), $"closed of {pollId} before its snapshot");
                Assert.True(seq >= closed.Seq);
                closed.Seq = seq;
                closed.Status = (string)message["status"]!;
                closed.TotalVotes = (long)message["totalVotes"]!;
                break;
        }
    }

    private int SnapshotsOf(string pollId) => _polls.TryGetValue(pollId, out var poll) ? poll.Snapshots : 0;
}
