using NATS.Client.Core;
using Tally.Cluster.EventLog;
using Tally.Cluster.Tests.Infrastructure;
using Tally.Testing.Engines;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Cluster.Tests.EventLog;

/// <summary>The event-log specification against a real nats-server with JetStream: each test on a stream of its own.</summary>
[Collection(ClusterCollection.Name)]
public sealed class JetStreamEventLogTests(ClusterEngines engines) : EventLogSpecification
{
    private readonly string _stream = "SPEC_" + Guid.NewGuid().ToString("N");
    private NatsConnection? _nats;

    public override async Task InitializeAsync()
    {
        _nats = new NatsConnection(new NatsOpts { Url = engines.Nats.Url });
        await _nats.ConnectAsync().AsTask().WaitAsync(Timeout);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _nats!.DisposeAsync();
    }

    protected override IEventLog CreateLog() => new JetStreamEventLog(_nats!, Options(_stream));

    protected override IEventLog? Reopen() => CreateLog();

    internal static JetStreamLogOptions Options(string stream, string subject = "0") => new()
    {
        StreamName = stream,
        SubjectPrefix = "spec." + stream,
        Subject = $"spec.{stream}.{subject}",
    };
}
