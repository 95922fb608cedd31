namespace Tally.Cluster;

/// <summary>Settings of cluster mode (section <c>Tally:Cluster</c>; the NATS address is <c>Tally:Nats:Url</c>).</summary>
public sealed class ClusterOptions
{
    /// <summary>
    /// Prefix of every NATS name this cluster uses: the stream <c>{NAMESPACE}_EVENTS</c> with subjects
    /// <c>{namespace}.events.{partition}</c>, commands on <c>{namespace}.cmd.{partition}</c>, the KV buckets
    /// <c>{NAMESPACE}_LEASES</c> and <c>{NAMESPACE}_NODES</c>. Two clusters on one NATS need two namespaces. Default <c>tally</c>.
    /// </summary>
    public string Namespace { get; set; } = "tally";

    /// <summary>
    /// Cluster partitions: the unit of ownership and of the stream's subjects. Fixed for the life of the stream
    /// (a poll's partition is FNV-1a of its id modulo this). More partitions than nodes lets load spread and
    /// move in small pieces. Default 16.
    /// </summary>
    public int Partitions { get; set; } = 16;

    /// <summary>How long a partition's lease lasts without renewal; a dead owner's partitions move after it. Default 6 s.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>How long a forwarded command waits for the owner's answer. Default 30 s.</summary>
    public TimeSpan ForwardTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a command waits for its partition to get an owner (a hand-over as nodes join or leave takes
    /// about a renew interval; a dead owner's partitions wait for its lease to expire) before it is answered
    /// 503. Default 3 s.
    /// </summary>
    public TimeSpan HandoverWait { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Copies JetStream keeps of the stream and buckets: 3 (the default) on a NATS cluster of 3 servers or more, so the
    /// loss of one server loses nothing acknowledged. Fewer only with <see cref="AllowFewerReplicas"/>.
    /// </summary>
    public int Replicas { get; set; } = 3;

    /// <summary>
    /// Lets <see cref="Replicas"/> be 1 or 2: a test, a trial, or one NATS server. With one copy, a NATS server's loss
    /// (its disk, or its page cache in an OS crash: see the README's "What a 2xx means") can lose acknowledged votes.
    /// Default false: the cluster refuses to start.
    /// </summary>
    public bool AllowFewerReplicas { get; set; }

    /// <summary>
    /// Says that the NATS servers run with <c>jetstream { sync_interval: always }</c> (NATS 2.10 and later), so JetStream
    /// fsyncs every message before its ack. Tally cannot read that setting; this only changes what it reports as a 2xx's
    /// durability (start-up log, <c>/readyz</c>). Default false.
    /// </summary>
    public bool NatsSyncAlways { get; set; }

    /// <summary>
    /// Answers a counted vote only once the PostgreSQL ledger has committed it as well, so a 2xx survives what
    /// PostgreSQL's commit survives even where NATS does not fsync (Debian's 2.9). PostgreSQL is then on the vote's path:
    /// each answer waits for the ledger (measured in the README), and while PostgreSQL is away votes are answered 503
    /// after <see cref="LedgerAckTimeout"/>. Default false: a 2xx means in the JetStream stream.
    /// </summary>
    public bool AckAfterLedger { get; set; }

    /// <summary>With <see cref="AckAfterLedger"/>: how long a counted vote waits for the ledger before it is answered 503 (retry it). Default 5 s.</summary>
    public TimeSpan LedgerAckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the ledger's projector announces each commit (its checkpoint), for the nodes waiting on it.</summary>
    public string LedgerCheckpointSubject => $"{Namespace}.ledger.checkpoint";

    /// <summary>
    /// How long a starting node waits for JetStream (its servers elect a leader after they form a cluster or one restarts;
    /// until then the stream and lease API time out) and for PostgreSQL (the access and webhook stores, while it
    /// restarts) before it gives up and exits. Default 2 min.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A poll's owner publishes its live update at most once per tick (and at once after a quiet tick).</summary>
    public TimeSpan LiveTick { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A node stops following a poll this long after its live hub dropped the poll's stream.</summary>
    public TimeSpan UnfollowAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>This node's name in leases and logs. Default: the machine name and process id.</summary>
    public string NodeId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>How often leases are renewed and free partitions sought: a third of <see cref="LeaseTtl"/>.</summary>
    public TimeSpan RenewInterval => LeaseTtl / 3;

    public string StreamName => Namespace.ToUpperInvariant() + "_EVENTS";

    public string EventSubjectPrefix => Namespace + ".events";

    public string EventSubject(int partition) => $"{Namespace}.events.{partition}";

    public string CommandSubject(int partition) => $"{Namespace}.cmd.{partition}";

    /// <summary>Where a poll's owner publishes its live updates (only nodes with watchers of the poll subscribe).</summary>
    public string LiveSubject(string pollId) => $"{Namespace}.live.{pollId}";

    public string LeaseBucket => Namespace.ToUpperInvariant() + "_LEASES";

    public string NodeBucket => Namespace.ToUpperInvariant() + "_NODES";

    /// <summary>
    /// Every setting that is out of range, one sentence each naming it by its configuration key (none when all are
    /// fine). <c>AddTallyCluster</c> reports them all at start; <see cref="Engine.ClusterEngine"/> refuses options with any.
    /// </summary>
    public IReadOnlyList<string> Failures()
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(Namespace) || !Namespace.All(c => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '-'))
        {
            failures.Add($"Tally:Cluster:Namespace \"{Namespace}\" must be letters, digits, '_' or '-'.");
        }

        if (Partitions is < 1 or > 1024)
        {
            failures.Add($"Tally:Cluster:Partitions is from 1 to 1024 (it is {Partitions}).");
        }

        if (LeaseTtl < TimeSpan.FromSeconds(1))
        {
            failures.Add($"Tally:Cluster:LeaseTtl is at least 1 s (it is {LeaseTtl}).");
        }

        if (ForwardTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Cluster:ForwardTimeout must be more than zero (it is {ForwardTimeout}).");
        }

        if (Replicas < 1)
        {
            failures.Add($"Tally:Cluster:Replicas is at least 1 (it is {Replicas}).");
        }
        else if (Replicas < 3 && !AllowFewerReplicas)
        {
            failures.Add($"Tally:Cluster:Replicas is {Replicas}: with fewer than 3 copies the event stream does not survive the loss of a NATS server. Run 3 NATS servers with Replicas=3, or, for a test, a trial or one NATS server, set Tally:Cluster:AllowFewerReplicas=true.");
        }

        if (AckAfterLedger && LedgerAckTimeout <= TimeSpan.Zero)
        {
            failures.Add($"Tally:Cluster:LedgerAckTimeout must be more than zero (it is {LedgerAckTimeout}).");
        }

        if (HandoverWait < TimeSpan.Zero)
        {
            failures.Add($"Tally:Cluster:HandoverWait must not be negative (it is {HandoverWait}).");
        }

        if (LiveTick < TimeSpan.FromMilliseconds(1))
        {
            failures.Add($"Tally:Cluster:LiveTick is at least 1 ms (it is {LiveTick}).");
        }

        if (UnfollowAfter < TimeSpan.FromSeconds(1))
        {
            failures.Add($"Tally:Cluster:UnfollowAfter is at least 1 s (it is {UnfollowAfter}).");
        }

        if (string.IsNullOrWhiteSpace(NodeId))
        {
            failures.Add("Tally:Cluster:NodeId must not be empty.");
        }

        return failures;
    }
}
