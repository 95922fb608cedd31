namespace Tally.Cluster.EventLog;

/// <summary>
/// Another writer appended to this log's subject: this instance's view of the log is stale, so it may never
/// append again (what it tried to append is not in the log). The partition's owner has changed.
/// </summary>
public sealed class EventLogFencedException : Exception
{
    public EventLogFencedException()
    {
    }

    public EventLogFencedException(string message)
        : base(message)
    {
    }

    public EventLogFencedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
