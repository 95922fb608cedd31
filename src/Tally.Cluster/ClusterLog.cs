using Microsoft.Extensions.Logging;

namespace Tally.Cluster;

/// <summary>Cluster mode's log messages; EventIds 5000–5999, never reused.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Publishing to {Subject} got no answer ({Error}: {Detail}); trying again with the same message id")]
    public static partial void PublishRetried(ILogger logger, string subject, string error, string detail);
}
