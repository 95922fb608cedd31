using NATS.Client.Core;
using Tally.Cluster.EventLog;
using Tally.Engine;

namespace Tally.Cluster.Engine;

/// <summary>A partition this node owns: its lease, its log (on the partition's subject), the single-writer engine over it, and the subscription that takes forwarded commands.</summary>
internal sealed class OwnedPartition(int index, ulong leaseRevision, DateTimeOffset renewedAt, JetStreamEventLog log, TallyEngine engine)
{
    public int Index { get; } = index;

    public ulong LeaseRevision { get; set; } = leaseRevision;

    public DateTimeOffset RenewedAt { get; set; } = renewedAt;

    public JetStreamEventLog Log { get; } = log;

    public TallyEngine Engine { get; } = engine;

    public INatsSub<byte[]>? Commands { get; set; }

    public Task Serving { get; set; } = Task.CompletedTask;
}
