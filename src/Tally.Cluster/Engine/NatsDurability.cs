namespace Tally.Cluster.Engine;

/// <summary>
/// What a 2xx means in cluster mode, from the NATS server's version and the stream's replicas. An acknowledged vote is
/// in JetStream on every replica before its answer, so it survives a Tally node's and a NATS process's kill (both are
/// tested). Whether it survives an OS crash or power loss depends on NATS's fsync: servers before 2.10 have no
/// <c>sync_interval</c> setting and flush JetStream's files about every two minutes; later ones default to the same but
/// can fsync every message (<c>sync_interval: always</c>), which Tally cannot read and the operator declares.
/// </summary>
internal static class NatsDurability
{
    public static Tally.Storage.Durability Describe(string? serverVersion, int replicas, bool syncAlways)
    {
        var version = serverVersion ?? "unknown (not connected yet)";
        var where = replicas == 1 ? "its one server's machine" : $"a majority of its {replicas} servers at once";
        var head = $"JetStream on nats-server {version}, {replicas} replica(s): an acknowledged vote is in the stream on {(replicas == 1 ? "the server" : "a majority of its replicas")} before its answer, so it survives a Tally node's kill and a NATS process's kill.";
        if (syncAlways)
        {
            return new(head + " The servers are declared to run with sync_interval: always (Tally:Cluster:NatsSyncAlways): each message is fsynced before its ack, so it also survives an OS crash or power loss.", AtRisk: false);
        }

        var lost = "an OS crash or power loss of " + where + " can lose the votes acknowledged in the last 2 minutes.";
        return new(HasSyncInterval(serverVersion)
            ? head + " JetStream flushes its files about every 2 minutes by default: " + lost + " To fsync every message, run the servers with jetstream { sync_interval: always } and set Tally:Cluster:NatsSyncAlways=true."
            : head + " This server has no sync_interval setting (newer NATS servers have it) and flushes JetStream's files about every 2 minutes: " + lost, AtRisk: true);
    }

    /// <summary>True from NATS 2.10 on (and for a version that cannot be read: the setting may be there).</summary>
    internal static bool HasSyncInterval(string? serverVersion)
    {
        var core = serverVersion?.Split('-', '+')[0];
        return core is null || !Version.TryParse(core, out var v) || v >= new Version(2, 10);
    }
}
