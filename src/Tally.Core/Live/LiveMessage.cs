using Tally.Polls;
using Tally.Projections;

namespace Tally.Live;

/// <summary>
/// One message to a poll's watchers. Immutable and shared by every watcher: each wire format encodes it
/// once (<see cref="GetEncoded"/>) and hands the same bytes to every connection of that format.
/// </summary>
public sealed class LiveMessage
{
    /// <summary>Slots for cached encodings: one per wire format the host registers.</summary>
    public const int MaxFormats = 8;

    private readonly byte[]?[] _encoded = new byte[]?[MaxFormats];

    private LiveMessage(LiveMessageKind kind, PollResults results, long previousSeq, IReadOnlyList<OptionCount> changes, int? watchers, bool statusChanged = false)
    {
        StatusChanged = statusChanged;
        Kind = kind;
        Results = results;
        PreviousSeq = previousSeq;
        Changes = changes;
        Watchers = watchers;
    }

    public LiveMessageKind Kind { get; }

    /// <summary>The results this message brings the watcher to.</summary>
    public PollResults Results { get; }

    public string PollId => Results.Poll.Id;

    public long Seq => Results.Seq;

    public long TotalVotes => Results.TotalVotes;

    public PollStatus Status => Results.Status;

    /// <summary>For a delta: the seq of the message before it on the poll's stream (it covers changes after it).</summary>
    public long PreviousSeq { get; }

    /// <summary>For a delta: the options whose count changed, with their new absolute counts.</summary>
    public IReadOnlyList<OptionCount> Changes { get; }

    /// <summary>Watchers of the poll (on this node); in a delta only when it changed.</summary>
    public int? Watchers { get; }

    /// <summary>For a delta: the poll's status differs from the previous message's (it opened, paused or resumed), so the delta says it.</summary>
    public bool StatusChanged { get; }

    /// <summary>True for a delta that only says the watcher count changed.</summary>
    public bool IsPresenceOnly => Kind == LiveMessageKind.Delta && Changes.Count == 0 && PreviousSeq == Seq;

    public static LiveMessage Snapshot(PollResults results, int watchers) => new(LiveMessageKind.Snapshot, results, results.Seq, [], watchers);

    public static LiveMessage Delta(PollResults results, long previousSeq, IReadOnlyList<OptionCount> changes, int? watchers, bool statusChanged = false) =>
        new(LiveMessageKind.Delta, results, previousSeq, changes, watchers, statusChanged);

    public static LiveMessage Closed(PollResults results) => new(LiveMessageKind.Closed, results, results.Seq, [], null);

    /// <summary>The message in the format of <paramref name="slot"/>, encoded by the first caller and shared after.</summary>
    public byte[] GetEncoded(int slot, Func<LiveMessage, byte[]> encode)
    {
        ArgumentNullException.ThrowIfNull(encode);
        var bytes = Volatile.Read(ref _encoded[slot]);
        if (bytes is not null)
        {
            return bytes;
        }

        bytes = encode(this);
        return Interlocked.CompareExchange(ref _encoded[slot], bytes, null) ?? bytes;
    }
}
