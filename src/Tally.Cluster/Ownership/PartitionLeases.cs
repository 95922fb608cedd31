using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace Tally.Cluster.Ownership;

/// <summary>
/// Who owns which partition, in a JetStream KV bucket whose entries expire (the bucket's max age is the
/// lease's length). A lease is taken with create-if-absent and renewed with update-at-revision, so two nodes
/// can never both take or renew it; an owner that stops renewing loses it once its entry expires. A lease only
/// says who should write: the event log's expected-sequence check is what keeps a deposed owner from writing.
/// Live nodes heartbeat into a second bucket so each knows its fair share of partitions.
/// </summary>
internal sealed class PartitionLeases(INatsConnection nats, ClusterOptions options)
{
    private INatsKVStore? _leases;
    private INatsKVStore? _nodes;

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        var kv = new NatsKVContext(new NatsJSContext(nats));
        _leases = await kv.CreateOrUpdateStoreAsync(Bucket(options.LeaseBucket), cancellationToken).ConfigureAwait(false);
        _nodes = await kv.CreateOrUpdateStoreAsync(Bucket(options.NodeBucket), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Takes the partition's lease when nobody holds it: its revision, or null.</summary>
    public async Task<ulong?> TryAcquireAsync(int partition, CancellationToken cancellationToken)
    {
        var result = await Leases.TryCreateAsync(Key(partition), options.NodeId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Success ? result.Value : null;
    }

    /// <summary>Extends a held lease: its new revision, or null when it was lost (expired and maybe taken).</summary>
    public async Task<ulong?> TryRenewAsync(int partition, ulong revision, CancellationToken cancellationToken)
    {
        var result = await Leases.TryUpdateAsync(Key(partition), options.NodeId, revision, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.Success ? result.Value : null;
    }

    /// <summary>Gives a held lease up at once (a clean stop or a hand-over), so another node need not wait for it to expire.</summary>
    public async Task ReleaseAsync(int partition, ulong revision, CancellationToken cancellationToken) =>
        await Leases.TryDeleteAsync(Key(partition), new NatsKVDeleteOpts { Revision = revision }, cancellationToken).ConfigureAwait(false);

    /// <summary>Says this node is alive (the entry expires with the bucket's max age).</summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken) =>
        await Nodes.PutAsync(options.NodeId, "alive", cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Nodes that heartbeat within the lease length (at least 1: this one).</summary>
    public async Task<int> CountLiveNodesAsync(CancellationToken cancellationToken)
    {
        var count = 0;
        try
        {
            await foreach (var _ in Nodes.GetKeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                count++;
            }
        }
        catch (NatsKVException)
        {
            // An empty bucket: nobody heartbeats yet.
        }

        return Math.Max(1, count);
    }

    /// <summary>Withdraws this node's heartbeat (a clean stop), so the others take its share at once.</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken) =>
        await Nodes.TryDeleteAsync(options.NodeId, cancellationToken: cancellationToken).ConfigureAwait(false);

    private INatsKVStore Leases => _leases ?? throw new InvalidOperationException("The leases are not open.");

    private INatsKVStore Nodes => _nodes ?? throw new InvalidOperationException("The leases are not open.");

    private static string Key(int partition) => "p" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private NatsKVConfig Bucket(string name) => new(name)
    {
        History = 1,
        MaxAge = options.LeaseTtl,
        Storage = NatsKVStorageType.File,
        NumberOfReplicas = options.Replicas,
    };
}
