namespace Tally.Cluster.EventLog;

/// <summary>Where a <see cref="JetStreamEventLog"/> keeps its events (section <c>Tally:Nats</c> for the stream settings).</summary>
public sealed class JetStreamLogOptions
{
    /// <summary>The JetStream stream. Default <c>TALLY_EVENTS</c>.</summary>
    public string StreamName { get; set; } = "TALLY_EVENTS";

    /// <summary>The stream takes every subject under this prefix (<c>prefix.&gt;</c>). Default <c>tally.events</c>.</summary>
    public string SubjectPrefix { get; set; } = "tally.events";

    /// <summary>The subject this log reads and appends, under <see cref="SubjectPrefix"/>. Default <c>tally.events.0</c>.</summary>
    public string Subject { get; set; } = "tally.events.0";

    /// <summary>Copies JetStream keeps of each message (1 on one server; 3 on a 3-server NATS cluster). Default 1.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>How long JetStream remembers a <c>Nats-Msg-Id</c> to drop a retried publish. Default 2 minutes.</summary>
    public TimeSpan DuplicateWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one publish attempt waits for JetStream's ack before it is tried again. Default 5 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(StreamName) || StreamName.IndexOfAny([' ', '.', '*', '>']) >= 0)
        {
            throw new ArgumentException($"Stream name \"{StreamName}\" is empty or has a space, '.', '*' or '>'.");
        }

        if (string.IsNullOrWhiteSpace(SubjectPrefix) || !Subject.StartsWith(SubjectPrefix + ".", StringComparison.Ordinal) || Subject.IndexOfAny(['*', '>', ' ']) >= 0)
        {
            throw new ArgumentException($"Subject \"{Subject}\" must be a literal subject under \"{SubjectPrefix}.\".");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Replicas, 1, nameof(Replicas));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DuplicateWindow, TimeSpan.Zero, nameof(DuplicateWindow));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AttemptTimeout, TimeSpan.Zero, nameof(AttemptTimeout));
    }
}
