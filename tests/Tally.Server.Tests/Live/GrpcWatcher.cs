using Grpc.Core;
using Tally.V1;

namespace Tally.Server.Tests.Live;

/// <summary>
/// A client-side view of one <c>Watch</c> call, kept the way the contract tells clients to: a snapshot
/// replaces everything, every update sets the counts it lists (they are absolute).
/// </summary>
public sealed class GrpcWatcher : IDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly AsyncServerStreamingCall<ResultsUpdate> _call;

    public GrpcWatcher(Tally.V1.Live.LiveClient client, string pollId, long? sinceSeq = null)
    {
        var request = new WatchRequest { PollId = pollId };
        if (sinceSeq is { } since)
        {
            request.SinceSeq = since;
        }

        _call = client.Watch(request);
    }

    public List<ResultsUpdate> Received { get; } = [];

    public Dictionary<int, long> Counts { get; } = [];

    public long Seq { get; private set; } = -1;

    public long TotalVotes { get; private set; }

    public bool Closed { get; private set; }

    public Status CallStatus => _call.GetStatus();

    /// <summary>The next update (applied), or null when the server ended the stream; bounded by <see cref="Timeout"/>.</summary>
    public async Task<ResultsUpdate?> NextAsync()
    {
        using var deadline = new CancellationTokenSource(Timeout);
        bool more;
        try
        {
            more = await _call.ResponseStream.MoveNext(deadline.Token);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"No update within {Timeout.TotalSeconds} s; received so far: {string.Join(" | ", Received)}", ex);
        }

        if (!more)
        {
            return null;
        }

        var update = _call.ResponseStream.Current;
        Apply(update);
        return update;
    }

    /// <summary>Reads updates until the watcher's state reaches <paramref name="seq"/>.</summary>
    public async Task ReadUntilSeqAsync(long seq)
    {
        while (Seq < seq)
        {
            if (await NextAsync() is null)
            {
                throw new InvalidOperationException($"The stream ended at seq {Seq}, before {seq}.");
            }
        }
    }

    public void Dispose() => _call.Dispose();

    private void Apply(ResultsUpdate update)
    {
        Assert.False(Closed, "an update after the closed update: " + update);
        Assert.True(update.Seq >= Seq, $"seq went back from {Seq} to {update.Seq}");
        if (update.Snapshot)
        {
            Counts.Clear();
        }

        foreach (var count in update.Counts)
        {
            Counts[count.Id] = count.Votes;
        }

        Received.Add(update);
        Seq = update.Seq;
        TotalVotes = update.TotalVotes;
        Closed = update.Closed;
    }
}
