using System.Diagnostics;

namespace Tally.LoadGen;

/// <summary>
/// The watchers of a run: connected a few at a time (each counts once its snapshot arrived), waited on
/// together, and disposed together. Connecting stops at the first failure when the run asks for "as many
/// as the machine allows"; every wait is bounded.
/// </summary>
internal sealed class WatcherGroup(WatcherFactory factory) : IAsyncDisposable
{
    /// <summary>How long one watcher may take from connecting to its snapshot.</summary>
    private static readonly TimeSpan s_snapshotTimeout = TimeSpan.FromSeconds(15);

    private readonly List<Watcher> _watchers = [];
    private readonly Lock _gate = new();
    private int _disposed;

    public IReadOnlyList<Watcher> Watchers => _watchers;

    public long ConnectFailures { get; private set; }

    public string? FirstConnectProblem { get; private set; }

    /// <summary>
    /// Connects up to <paramref name="count"/> watchers, watcher i on <c>polls[i % polls.Count]</c>, <paramref name="concurrency"/>
    /// at a time, for at most <paramref name="timeout"/>. With <paramref name="stopAtFirstFailure"/> the first failure ends the
    /// connecting (the machine's limit was reached); otherwise every watcher is tried. Returns the seconds it took.
    /// </summary>
    public async Task<double> ConnectAsync(IReadOnlyList<string> polls, int count, int concurrency, TimeSpan timeout, bool stopAtFirstFailure, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var loops = Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < count && !deadline.IsCancellationRequested; i = Interlocked.Increment(ref next))
            {
                var watcher = factory.Create(polls[i % polls.Count]);
                try
                {
                    using var snapshotWait = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                    snapshotWait.CancelAfter(s_snapshotTimeout);
                    await watcher.StartAsync(snapshotWait.Token);
                    await watcher.SnapshotReceived.WaitAsync(snapshotWait.Token);
                    lock (_gate)
                    {
                        _watchers.Add(watcher);
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    await watcher.DisposeAsync();
                    if (deadline.IsCancellationRequested && ex is OperationCanceledException)
                    {
                        return; // out of time: not a failure of this watcher
                    }

                    lock (_gate)
                    {
                        ConnectFailures++;
                        FirstConnectProblem ??= $"watcher {i}: {Describe(ex)}";
                    }

                    if (stopAtFirstFailure)
                    {
                        await deadline.CancelAsync();
                        return;
                    }
                }
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(loops);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Waits (at most <paramref name="timeout"/>) until every watcher of each poll was told the poll's watcher count is
    /// <paramref name="expected"/>(poll): the burst of presence deltas that connecting caused is over. False on timeout.
    /// </summary>
    public async Task<bool> WaitForPresenceAsync(Func<string, int> expected, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // There is no single signal for "every watcher has seen the count": poll the watchers' state, with a deadline.
        var deadline = Stopwatch.GetTimestamp() + MeasuredWindow.Ticks(timeout);
        while (!_watchers.All(w => w.LastWatchers == expected(w.PollId)))
        {
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken);
        }

        return true;
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until every watcher saw <paramref name="seqOf"/>(its poll). Returns the watchers that did not.</summary>
    public async Task<List<Watcher>> WaitForSeqAsync(Func<string, long> seqOf, TimeSpan timeout, CancellationToken cancellationToken)
    {
        foreach (var watcher in _watchers)
        {
            watcher.WaitFor(seqOf(watcher.PollId));
        }

        try
        {
            await Task.WhenAll(_watchers.Select(w => w.Reached)).WaitAsync(timeout, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or IOException)
        {
            // reported below, watcher by watcher
        }

        return [.. _watchers.Where(w => !w.Reached.IsCompletedSuccessfully)];
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // A few at a time, so closing 10k sockets does not flood the thread pool.
        foreach (var chunk in _watchers.Chunk(256))
        {
            await Task.WhenAll(chunk.Select(w => w.DisposeAsync().AsTask()));
        }
    }

    private static string Describe(Exception ex) => ex.InnerException is { } inner && ex is HttpRequestException or System.Net.WebSockets.WebSocketException
        ? $"{ex.GetType().Name}: {ex.Message} ({inner.GetType().Name}: {inner.Message})"
        : $"{ex.GetType().Name}: {ex.Message}";
}
