using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Tally.Cluster.Engine;
using Tally.Projections;

namespace Tally.Cluster.Live;

/// <summary>
/// The owner's side of cross-node fan-out, one per owned partition: publishes each poll that changed on
/// <c>{ns}.live.{pollId}</c> (core NATS, no persistence), conflated to at most one message per poll per
/// <see cref="ClusterOptions.LiveTick"/> and sent at once after a quiet tick (leading edge). NATS delivers a
/// message only to the nodes subscribed to that poll, so a poll's update costs one publish however many
/// nodes and watchers follow it, and a node reads nothing of the polls nobody watches there. On start it
/// publishes every poll of the partition once, so followers that lost a message during a hand-over catch up.
/// </summary>
internal sealed class LiveRelay(INatsConnection nats, ClusterOptions options, PollCatalog catalog, TimeProvider time, ILogger logger) : RestartableLoop
{
    private readonly ConcurrentDictionary<string, byte> _dirty = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Messages published since start (tests).</summary>
    public long Published { get; private set; }

    protected override void OnStarting()
    {
        catalog.Published += OnPublished;
        foreach (var (results, _) in catalog.List(int.MaxValue, long.MaxValue))
        {
            _dirty.TryAdd(results.Poll.Id, 0);
        }

        _wake.Writer.TryWrite(true);
    }

    protected override void OnStopping() => catalog.Published -= OnPublished;

    private void OnPublished(PollResults results)
    {
        _dirty.TryAdd(results.Poll.Id, 0);
        _wake.Writer.TryWrite(true);
    }

    protected override async Task RunAsync(CancellationToken stopping)
    {
        var failing = false;
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                _wake.Reader.TryRead(out _);
                var sent = 0;
                try
                {
                    sent = await FlushAsync(stopping).ConfigureAwait(false);
                    failing = false;
                }
                catch (Exception ex) when (ex is NatsException or TimeoutException)
                {
                    if (!failing)
                    {
                        ClusterLog.LiveRelayBehind(logger, ex.Message);
                        failing = true;
                    }

                    _wake.Writer.TryWrite(true); // what is left stays dirty: try again after the tick
                }

                if (sent > 0 || failing)
                {
                    await Task.Delay(options.LiveTick, time, stopping).ConfigureAwait(false); // changes in the meantime go out together
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }

        try
        {
            // Stopping (a hand-over): what changed since the last tick goes out now, not with the next owner.
            await FlushAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            ClusterLog.LiveRelayBehind(logger, ex.Message); // the next owner publishes every poll when it starts
        }
    }

    /// <summary>Publishes every dirty poll's latest state; returns how many messages went out.</summary>
    private async Task<int> FlushAsync(CancellationToken stopping)
    {
        var sent = 0;
        foreach (var pollId in _dirty.Keys)
        {
            _dirty.TryRemove(pollId, out _);
            if (catalog.FindResults(pollId) is not { } results)
            {
                continue;
            }

            try
            {
                await nats.PublishAsync(options.LiveSubject(pollId), ForwardedJson.Encode(LiveUpdate.Of(results)), cancellationToken: stopping).ConfigureAwait(false);
                Published++;
                sent++;
            }
            catch
            {
                _dirty.TryAdd(pollId, 0);
                throw;
            }
        }

        return sent;
    }
}
