using Microsoft.Extensions.Logging;

namespace Tally.Cluster;

/// <summary>Cluster mode's log messages; EventIds 5000–5999, never reused.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Publishing to {Subject} got no answer ({Error}: {Detail}); trying again with the same message id")]
    public static partial void PublishRetried(ILogger logger, string subject, string error, string detail);

    // 5002 (the whole-stream follower failed) is retired with the follower.

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "Node {Node} owns partition {Partition} (replayed {Events} events)")]
    public static partial void PartitionAcquired(ILogger logger, string node, int partition, long events);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Node {Node} gave up partition {Partition}: {Reason}")]
    public static partial void PartitionLost(ILogger logger, string node, int partition, string reason);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Cluster ownership round failed")]
    public static partial void OwnershipRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Error, Message = "Partition {Partition}'s engine reported a fault in {Where}")]
    public static partial void PartitionFault(ILogger logger, int partition, string where, Exception exception);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Answering a forwarded command for partition {Partition} failed")]
    public static partial void ForwardReplyFailed(ILogger logger, int partition, Exception exception);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "The PostgreSQL ledger cannot be written now ({Detail}); it catches up from its checkpoint when it can. Acks do not wait for it")]
    public static partial void LedgerBehind(ILogger logger, string detail);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Warning, Message = "Redis cannot be written now ({Detail}); its read models catch up when it answers. Acks do not wait for it")]
    public static partial void RedisBehind(ILogger logger, string detail);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Partition {Partition}'s snapshot cannot be read from PostgreSQL ({Detail}); replaying its whole subject instead")]
    public static partial void SnapshotUnavailable(ILogger logger, int partition, string detail);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Live updates cannot be published to NATS now ({Detail}); they go out when it answers")]
    public static partial void LiveRelayBehind(ILogger logger, string detail);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Warning, Message = "A live update of poll {PollId} could not be read; the poll is fetched again from its owner")]
    public static partial void LiveUpdateUnreadable(ILogger logger, string pollId, Exception exception);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Warning, Message = "Refreshing the followed polls from their owners after NATS reconnected failed")]
    public static partial void FollowRefreshFailed(ILogger logger, Exception exception);

    // 5014 (votes taken without the rate limit while Redis was away) is retired: the node now limits on its own.

    [LoggerMessage(EventId = 5015, Level = LogLevel.Warning, Message = "Redis cannot be asked for the rate limits now ({Detail}); this node limits on its own buckets until Redis answers")]
    public static partial void RateLimitLocal(ILogger logger, string detail);

    [LoggerMessage(EventId = 5016, Level = LogLevel.Information, Message = "Redis answers the rate limits again; the buckets are shared by every node")]
    public static partial void RateLimitShared(ILogger logger);

    [LoggerMessage(EventId = 5017, Level = LogLevel.Warning, Message = "{What} did not answer at start ({Error}: {Detail}); trying again in {DelayMs} ms, for up to {LeftSeconds} s more")]
    public static partial void StartRetried(ILogger logger, string what, string error, string detail, long delayMs, long leftSeconds);
}
