using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Tally.Cluster.EventLog;
using Tally.Cluster.Ownership;
using Tally.Engine;
using Tally.Metrics;
using Tally.Storage;

namespace Tally.Cluster.Engine;

/// <summary>
/// Which partitions this node owns, and the engines it runs for them. Every renew interval it heartbeats,
/// renews its leases (giving up a partition whose lease it lost or whose log another writer took), and
/// takes free partitions up to its fair share or hands one back when it holds more. Taking a partition
/// opens its log (fencing the last owner), replays it into a one-partition <see cref="TallyEngine"/>, and
/// starts taking its forwarded commands.
/// </summary>
internal sealed class PartitionOwnership(
    INatsConnection nats,
    ClusterOptions options,
    TallyEngineOptions partitionOptions,
    TimeProvider time,
    ILogger logger,
    CommandForwarding forwarding,
    Action<int, TallyEngine> acquired,
    Func<int, Task> losing,
    Func<int, ISnapshotStore> snapshots,
    Action<string, Exception> faulted,
    TallyMetrics? metrics) : IDisposable
{
    private readonly ConcurrentDictionary<int, OwnedPartition> _owned = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _roundGate = new(1, 1);
    private readonly PartitionLeases _leases = new(nats, options);
    private readonly INatsConnection _nats = nats;
    private readonly ClusterOptions _options = options;
    private readonly TallyEngineOptions _partitionOptions = partitionOptions;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private Task _loop = Task.CompletedTask;
    private volatile bool _active;

    /// <summary>The partitions owned now.</summary>
    public IReadOnlyCollection<int> Owned => [.. _owned.Keys.Order()];

    /// <summary>Test hook: what the engine of a partition taken from now on writes through (its JetStream log by default).</summary>
    public Func<int, IEventLog, IEventLog> PartitionLog { get; set; } = static (_, log) => log;

    /// <summary>Votes waiting in the queues of the partitions owned now (tests).</summary>
    public int QueuedVotes => _owned.Values.Sum(o => o.Engine.QueuedVotes);

    /// <summary>Events the partition's engine replayed when this node took it (after its snapshot); -1 when not owned.</summary>
    public long ReplayedEvents(int partition) => _owned.TryGetValue(partition, out var owned) ? owned.Engine.ReplayedEvents : -1;

    /// <summary>The engine of a partition this node owns and can write, or null.</summary>
    public TallyEngine? Local(int partition) =>
        _owned.TryGetValue(partition, out var owned) && owned.Engine.IsRunning && !owned.Log.IsFenced ? owned.Engine : null;

    /// <summary>The log of a partition this node owns, or null.</summary>
    public JetStreamEventLog? LogOf(int partition) => _owned.TryGetValue(partition, out var owned) ? owned.Log : null;

    public Task OpenAsync(CancellationToken cancellationToken) => _leases.OpenAsync(cancellationToken);

    /// <summary>Takes a first share now, then keeps renewing and balancing in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _active = true;
        await RunOwnershipRoundAsync(cancellationToken).ConfigureAwait(false);
        _loop = Task.Run(() => OwnershipLoopAsync(_stopping.Token), CancellationToken.None);
    }

    /// <summary>Hands every partition back (answering what is queued) and withdraws the heartbeat.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _active = false;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _roundGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var p in _owned.Keys.ToArray())
            {
                await LoseAsync(p, "the node is stopping", release: true).ConfigureAwait(false);
            }

            await _leases.LeaveAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _roundGate.Release();
        }
    }

    /// <summary>Stops renewing and serving without releasing anything, as a killed node would (tests).</summary>
    public async Task AbandonAsync()
    {
        _active = false;
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        foreach (var owned in _owned.Values)
        {
            if (owned.Commands is { } commands)
            {
                await commands.UnsubscribeAsync().ConfigureAwait(false);
            }

            await owned.Engine.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await owned.Log.DisposeAsync().ConfigureAwait(false);
        }

        _owned.Clear();
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _roundGate.Dispose();
    }

    private async Task OwnershipLoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.RenewInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                try
                {
                    await RunOwnershipRoundAsync(stopping).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    ClusterLog.OwnershipRoundFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Heartbeats, renews what this node owns (giving up what it lost), then takes or hands over partitions toward its fair share.</summary>
    private async Task RunOwnershipRoundAsync(CancellationToken cancellationToken)
    {
        await _roundGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _leases.HeartbeatAsync(cancellationToken).ConfigureAwait(false);
            foreach (var owned in _owned.Values.ToArray())
            {
                if (owned.Log.IsFenced)
                {
                    await LoseAsync(owned.Index, "another node wrote to its subject", release: true).ConfigureAwait(false);
                    continue;
                }

                ulong? renewed;
                try
                {
                    renewed = await _leases.TryRenewAsync(owned.Index, owned.LeaseRevision, cancellationToken).ConfigureAwait(false);
                }
                catch (NatsException) when (_time.GetUtcNow() - owned.RenewedAt < _options.LeaseTtl)
                {
                    continue; // NATS is away; the lease may still hold, and fencing guards the log either way
                }

                if (renewed is { } revision)
                {
                    owned.LeaseRevision = revision;
                    owned.RenewedAt = _time.GetUtcNow();
                }
                else
                {
                    await LoseAsync(owned.Index, "its lease expired", release: false).ConfigureAwait(false);
                }
            }

            var nodes = await _leases.CountLiveNodesAsync(cancellationToken).ConfigureAwait(false);
            var share = (_options.Partitions + nodes - 1) / nodes;
            if (_owned.Count > share)
            {
                // Hand one over per round, so partitions move a few at a time as nodes join.
                await LoseAsync(_owned.Keys.Max(), "handing it to a node that joined", release: true).ConfigureAwait(false);
                return;
            }

            var start = (int)((uint)StringComparer.Ordinal.GetHashCode(_options.NodeId) % (uint)_options.Partitions);
            for (var k = 0; k < _options.Partitions && _owned.Count < share && _active; k++)
            {
                var p = (start + k) % _options.Partitions;
                if (!_owned.ContainsKey(p) && await _leases.TryAcquireAsync(p, cancellationToken).ConfigureAwait(false) is { } revision)
                {
                    await AcquireAsync(p, revision, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _roundGate.Release();
        }
    }

    private async Task AcquireAsync(int partition, ulong revision, CancellationToken cancellationToken)
    {
        var log = new JetStreamEventLog(_nats, new JetStreamLogOptions
        {
            StreamName = _options.StreamName,
            SubjectPrefix = _options.EventSubjectPrefix,
            Subject = _options.EventSubject(partition),
            Replicas = _options.Replicas,
        }, _logger);
        var engine = new TallyEngine(PartitionLog(partition, log), snapshots(partition), _partitionOptions, _time, metrics); // one meter for the node (each engine makes its own without it)
        engine.Faulted += (where, ex) =>
        {
            ClusterLog.PartitionFault(_logger, partition, where, ex);
            faulted(where, ex);
        };
        var owned = new OwnedPartition(partition, revision, _time.GetUtcNow(), log, engine);
        try
        {
            await engine.StartAsync(cancellationToken).ConfigureAwait(false); // opens the log (fencing the last owner) and replays it
            owned.Commands = await forwarding.SubscribeAsync(partition, cancellationToken).ConfigureAwait(false);
            // Served until the subscription ends (drained when the partition is lost), not until the node starts stopping:
            // a node stopping hands its partitions over one by one, and the ones it still holds keep answering.
            owned.Serving = Task.Run(() => forwarding.ServeAsync(partition, owned.Commands, CancellationToken.None), CancellationToken.None);
            _owned[partition] = owned;
            acquired(partition, engine);
            ClusterLog.PartitionAcquired(_logger, _options.NodeId, partition, engine.ReplayedEvents);
        }
        catch
        {
            await engine.DisposeAsync().ConfigureAwait(false);
            await log.DisposeAsync().ConfigureAwait(false);
            await _leases.ReleaseAsync(partition, revision, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private async Task LoseAsync(int partition, string reason, bool release)
    {
        if (!_owned.TryRemove(partition, out var owned))
        {
            return;
        }

        ClusterLog.PartitionLost(_logger, _options.NodeId, partition, reason);
        if (owned.Commands is { } commands)
        {
            // Drained, not just unsubscribed: a command already on its way to this node is still read and answered
            // (no owner here now: its sender retries the next owner at once) instead of being dropped, which left the
            // sender waiting out ForwardTimeout for nothing.
            try
            {
                using var drainFor = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await commands.DrainAsync(drainFor.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException)
            {
                await commands.UnsubscribeAsync().ConfigureAwait(false);
            }

            if (owned.Serving is { } serving)
            {
                await serving.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing); // the drained commands answered
            }
        }

        await owned.Engine.StopAsync(CancellationToken.None).ConfigureAwait(false); // answers what is queued
        await losing(partition).ConfigureAwait(false); // after the last commit: its live update and read model go out
        await owned.Log.DisposeAsync().ConfigureAwait(false);
        if (release)
        {
            try
            {
                await _leases.ReleaseAsync(partition, owned.LeaseRevision, CancellationToken.None).ConfigureAwait(false);
            }
            catch (NatsException)
            {
                // It expires by itself.
            }
        }
    }
}
