using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Tally.Cluster.EventLog;
using Tally.Engine;
using Tally.Events;
using Tally.Projections;

namespace Tally.Cluster.Engine;

/// <summary>
/// The read side of one node: follows every partition's subject of the event stream in order (an ordered
/// consumer, which restarts itself after a gap or a lost connection) and folds the events into the node's
/// <see cref="PollCatalog"/>, publishing each touched poll's results once per message. Queries and the local
/// live hub read that catalog, so any node answers for any poll and a watcher resumes by seq on any node:
/// every node sees every seq of a poll, in order, exactly as the owner committed it (a withdrawn batch
/// never reaches the stream, so no follower ever sees it).
/// </summary>
internal sealed class StreamFollower(PollCatalog catalog, ILogger logger) : IAsyncDisposable
{
    /// <summary>The position space of <see cref="PollCatalog"/> (creation order): stream sequence, then the event's index in its message.</summary>
    private const int IndexBits = 20;

    private readonly Dictionary<string, PollState> _polls = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private ulong _target;
    private long _applied;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The stream sequence of the last message applied.</summary>
    public ulong AppliedSequence => (ulong)Interlocked.Read(ref _applied);

    /// <summary>Why the read model stopped for good (an event it cannot read), or null while it follows.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Completes once every message that was in the stream at start is applied.</summary>
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>Returns once the stream sequence <paramref name="sequence"/> is applied (or throws past <paramref name="timeout"/>).</summary>
    public Task WaitForAsync(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitUntilAsync(() => AppliedSequence >= sequence, timeout, cancellationToken);

    /// <summary>Returns once <paramref name="applied"/> holds, checked after each message applied (or throws past <paramref name="timeout"/>).</summary>
    public async Task WaitUntilAsync(Func<bool> applied, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (applied())
        {
            return;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var progress = Volatile.Read(ref _progress);
            if (applied())
            {
                return;
            }

            await progress.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
    }

    public async Task StartAsync(INatsJSStream stream, CancellationToken cancellationToken)
    {
        await stream.RefreshAsync(cancellationToken).ConfigureAwait(false);
        _target = stream.Info.State.LastSeq;
        if (_target == 0)
        {
            _caughtUp.TrySetResult();
        }

        _loop = Task.Run(() => FollowAsync(stream, _stopping.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>
    /// Applies the stream from the message after the last one applied. The ordered consumer recovers from a
    /// lost connection itself; anything else that ends it (a NATS error, a consumer the server dropped) is
    /// logged and the follower starts a new consumer at the same place, so the read model never stops for good.
    /// </summary>
    private async Task FollowAsync(INatsJSStream stream, CancellationToken stopping)
    {
        var touched = new HashSet<PollState>();
        var pause = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // No filter: the stream holds only this cluster's event subjects. (NATS.Net's ordered consumer sends
                // filter_subjects, which servers before 2.10 ignore, so a filter here would not be honoured on 2.9.)
                var consumer = await stream.CreateOrderedConsumerAsync(
                    new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence, OptStartSeq = AppliedSequence + 1 },
                    stopping).ConfigureAwait(false);
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: stopping).ConfigureAwait(false))
                {
                    var sequence = message.Metadata?.Sequence.Stream ?? throw new InvalidDataException("A stream message without metadata.");
                    if (sequence <= AppliedSequence)
                    {
                        continue;
                    }

                    var index = 0L;
                    foreach (var stored in BatchMessage.Read(message.Data, 0))
                    {
                        Apply(stored.Event, ((long)sequence << IndexBits) + index++, touched);
                    }

                    foreach (var state in touched)
                    {
                        catalog.Publish(state.ToResults(), state.CreatedPosition);
                    }

                    touched.Clear();
                    Interlocked.Exchange(ref _applied, (long)sequence);
                    Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                    if (sequence >= _target)
                    {
                        _caughtUp.TrySetResult();
                    }

                    pause = TimeSpan.FromMilliseconds(100);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException)
            {
                ClusterLog.FollowerFailed(logger, ex);
                try
                {
                    await Task.Delay(pause, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
            catch (Exception ex)
            {
                // Not a NATS fault (an event this code cannot read): following on would skip it, so stop and say so.
                ClusterLog.FollowerFailed(logger, ex);
                Failure = ex;
                _caughtUp.TrySetException(ex);
                return;
            }
        }
    }

    private void Apply(PollEvent e, long position, HashSet<PollState> touched)
    {
        if (e is PollCreated created)
        {
            if (!_polls.ContainsKey(created.PollId))
            {
                var state = new PollState(created.Definition, position, countsOnly: true); // no ballots or keys: every node holds every poll
                _polls.Add(created.PollId, state);
                touched.Add(state);
            }

            return;
        }

        if (_polls.TryGetValue(e.PollId, out var existing) && e.Seq == existing.Seq + 1)
        {
            existing.Apply(e);
            touched.Add(existing);
        }
    }
}
