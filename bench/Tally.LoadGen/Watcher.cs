using System.Diagnostics;

namespace Tally.LoadGen;

/// <summary>
/// One watcher of one poll's live results, over some transport. It keeps the counts the messages
/// carry (to compare with <c>GET /results</c> at the end) and, for latency, when it first saw each
/// new seq: a message with seq S makes every vote with seq ≤ S visible. Its read loop is one
/// sequential async chain, so its state needs no locks; it is read only after the loop has ended,
/// except <see cref="Seq"/> and <see cref="LastWatchers"/>, which are published with volatile writes.
/// </summary>
internal abstract class Watcher : IAsyncDisposable
{
    /// <summary>Option ids a poll may have for this load generator (its polls have 3 options).</summary>
    public const int MaxOptionId = 16;

    private readonly long[] _counts = new long[MaxOptionId + 1];
    private readonly List<SeqSeen> _seen = [];
    private readonly List<long> _messageTimes = [];
    private readonly TaskCompletionSource _snapshot = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private long _seq = -1;
    private long _target = long.MaxValue;
    private int _lastWatchers;
    private int _disposed;

    protected Watcher(string pollId) => PollId = pollId;

    public string PollId { get; }

    /// <summary>The highest seq seen so far (-1 before the snapshot).</summary>
    public long Seq => Volatile.Read(ref _seq);

    /// <summary>The latest watcher count of the poll the server sent (snapshot, then deltas when it changed).</summary>
    public int LastWatchers => Volatile.Read(ref _lastWatchers);

    public long TotalVotes { get; private set; }

    /// <summary>Completes with the first message (the snapshot); faults when the stream ends before it.</summary>
    public Task SnapshotReceived => _snapshot.Task;

    /// <summary>Completes once a message with seq ≥ the target given to <see cref="WaitFor"/> has been seen.</summary>
    public Task Reached => _reached.Task;

    /// <summary>The read loop (set by <see cref="StartAsync"/>); it ends when the watcher is disposed or the stream ends.</summary>
    public Task Reading { get; private set; } = Task.CompletedTask;

    /// <summary>Why the stream ended while the run still wanted it (null while it runs, or when we ended it).</summary>
    public string? EndedEarly { get; private set; }

    /// <summary>Messages that broke the rules (a seq that went back, an unknown type); the first one is kept.</summary>
    public long Anomalies { get; private set; }

    public string? FirstAnomaly { get; private set; }

    /// <summary>Baselines only: whole-results messages that arrived after a newer one (the server sent them out of order).</summary>
    public long StaleMessages { get; private set; }

    /// <summary>(seq, Stopwatch timestamp) each time the seq grew, in order.</summary>
    public IReadOnlyList<SeqSeen> Seen => _seen;

    /// <summary>Stopwatch timestamps of every message (snapshot, deltas, presence-only deltas), in order.</summary>
    public IReadOnlyList<long> MessageTimes => _messageTimes;

    public long Count(int optionId) => _counts[optionId];

    /// <summary>Opens the stream and starts reading it; wait on <see cref="SnapshotReceived"/> for the first message.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await OpenAsync(cancellationToken);
        Reading = ReadGuardedAsync();
    }

    /// <summary>Completes <see cref="Reached"/> once this watcher has seen <paramref name="seq"/> (at once when it already has).</summary>
    public void WaitFor(long seq)
    {
        // Full fences on both sides (here and in OnMessage): whichever runs second sees the other's write.
        Interlocked.Exchange(ref _target, seq);
        if (Interlocked.Read(ref _seq) >= seq)
        {
            _reached.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        try
        {
            await CloseAsync();
        }
        finally
        {
            await Reading.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
        }
    }

    /// <summary>Connects and subscribes; throws when the server refuses.</summary>
    protected abstract Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>Reads messages, calling <see cref="OnMessage"/> for each, until the stream ends (return or throw) or <paramref name="cancellationToken"/> fires.</summary>
    protected abstract Task ReadAsync(CancellationToken cancellationToken);

    /// <summary>Ends the connection (called after the read loop was told to stop).</summary>
    protected abstract ValueTask CloseAsync();

    /// <summary>One message's JSON, read completely at <paramref name="receivedAt"/> (a Stopwatch timestamp taken when the read that completed it returned).</summary>
    protected void OnMessage(ReadOnlySpan<byte> json, long receivedAt)
    {
        var update = LiveUpdate.Read(json);
        _messageTimes.Add(receivedAt);
        if (update.Type is not ("snapshot" or "delta" or "results"))
        {
            Anomaly($"a '{update.Type}' message: {System.Text.Encoding.UTF8.GetString(json[..Math.Min(json.Length, 300)])}");
            return;
        }

        if (!Accept(update.Type, update.Seq))
        {
            return;
        }

        if (update.Type != "delta")
        {
            Array.Clear(_counts);
        }

        LiveUpdate.ApplyCounts(json, _counts);
        Applied(update.Seq, update.TotalVotes, update.Watchers, receivedAt);
    }

    /// <summary>
    /// A baseline's message, already decoded by its client library: the poll's whole results (every option's count) at
    /// <paramref name="seq"/>, received at <paramref name="receivedAt"/> (a Stopwatch timestamp taken when the library
    /// handed it over).
    /// </summary>
    protected void OnResults(long seq, long totalVotes, IEnumerable<(int Id, long Votes)> options, long receivedAt)
    {
        _messageTimes.Add(receivedAt);
        if (!Accept("results", seq))
        {
            return;
        }

        Array.Clear(_counts);
        foreach (var (id, votes) in options)
        {
            if (id < 1 || id > MaxOptionId || votes < 0)
            {
                Anomaly($"a message carried option {id} with {votes} votes");
                return;
            }

            _counts[id] = votes;
        }

        Applied(seq, totalVotes, null, receivedAt);
    }

    /// <summary>
    /// Whether a message of <paramref name="type"/> at <paramref name="seq"/> is to be applied. Tally's stream must never go
    /// back in seq (an anomaly); a baseline's whole-results message that arrives after a newer one is stale (its server
    /// sent them out of order), and is ignored, as a client must, and counted.
    /// </summary>
    private bool Accept(string type, long seq)
    {
        var current = Interlocked.Read(ref _seq);
        if (type == "delta" && current < 0)
        {
            Anomaly($"a delta (seq {seq}) before the snapshot");
        }

        if (seq < current)
        {
            if (type == "results")
            {
                StaleMessages++;
            }
            else
            {
                Anomaly($"seq went back from {current} to {seq}");
            }

            return false; // an old message: ignore it, as a client must
        }

        return true;
    }

    private void Applied(long seq, long? totalVotes, int? watchers, long receivedAt)
    {
        if (totalVotes is { } total)
        {
            TotalVotes = total;
        }

        if (watchers is { } count)
        {
            Volatile.Write(ref _lastWatchers, count);
        }

        if (seq > Interlocked.Read(ref _seq))
        {
            _seen.Add(new SeqSeen(seq, receivedAt));
            Interlocked.Exchange(ref _seq, seq);
            if (seq >= Interlocked.Read(ref _target))
            {
                _reached.TrySetResult();
            }
        }

        _snapshot.TrySetResult();
    }

    private void Anomaly(string what)
    {
        Anomalies++;
        FirstAnomaly ??= what;
    }

    private async Task ReadGuardedAsync()
    {
        await Task.Yield(); // StartAsync returns before the first read completes
        string? ended;
        try
        {
            await ReadAsync(_stop.Token);
            ended = "the server ended the stream";
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            return; // we ended it
        }
        catch (Exception ex)
        {
            ended = $"{ex.GetType().Name}: {ex.Message}";
        }

        EndedEarly = ended;
        _snapshot.TrySetException(new IOException($"The stream of poll {PollId} ended before its snapshot: {ended}"));
        _reached.TrySetException(new IOException($"The stream of poll {PollId} ended: {ended}"));
    }

    internal static long Now() => Stopwatch.GetTimestamp();
}

/// <summary>A watcher first saw <see cref="Seq"/> at <see cref="At"/> (a Stopwatch timestamp).</summary>
internal readonly record struct SeqSeen(long Seq, long At);
