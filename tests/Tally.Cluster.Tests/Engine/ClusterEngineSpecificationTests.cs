using Tally.Cluster.Engine;
using Tally.Cluster.Tests.Infrastructure;
using Tally.Engine;
using Tally.Projections;
using Tally.Testing;

namespace Tally.Cluster.Tests.Engine;

/// <summary>
/// The engine specification against cluster nodes on a real nats-server (a namespace of their own per test):
/// <see cref="OneNodeClusterEngineTests"/> and <see cref="TwoNodeClusterEngineTests"/> say how many.
/// </summary>
public abstract class ClusterEngineSpecificationTests(ClusterEngines engines) : EngineSpecification
{
    private ClusterNodes? _cluster;

    private ClusterNodes Cluster => _cluster ??= new ClusterNodes(engines.Nats.Url);

    protected override string ForeignCursor => PollCursor.FromPosition(3); // an embedded engine's

    protected abstract int Nodes { get; }

    protected override async Task<EnginesUnderTest> StartEnginesAsync(TallyEngineOptions options)
    {
        var gate = new AppendGate();
        var nodes = new List<ClusterEngine>();
        for (var i = 0; i < Nodes; i++)
        {
            nodes.Add(await Cluster.StartNodeAsync("n" + i, engineOptions: options, time: Clock, configure: node => node.PartitionLog = (_, log) => gate.Wrap(log)));
        }

        // Every node holds its share before the test begins, so that no partition changes hands during it.
        var share = Cluster.Partitions / Nodes;
        await Eventually.WaitUntilAsync(() => nodes.All(n => n.OwnedPartitions.Count == share), ClusterNodes.Timeout);
        return new EnginesUnderTest(nodes[0], nodes[^1], gate, () => nodes.Sum(n => n.QueuedVotes));
    }

    protected override async Task<ITallyEngine> CreateUnstartedAsync() => await Cluster.CreateNodeAsync("unstarted", time: Clock);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
