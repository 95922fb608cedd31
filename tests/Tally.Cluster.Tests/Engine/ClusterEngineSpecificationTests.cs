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
    private readonly Dictionary<EnginesUnderTest, List<ClusterEngine>> _nodes = new(ReferenceEqualityComparer.Instance);
    private ClusterNodes? _cluster;
    private int _restarts;

    private ClusterNodes Cluster => _cluster ??= new ClusterNodes(engines.Nats.Url);

    protected override string ForeignCursor => PollCursor.FromPosition(3); // an embedded engine's

    protected abstract int Nodes { get; }

    protected override Task<EnginesUnderTest> StartEnginesAsync(TallyEngineOptions options) => StartNodesAsync(options, "n");

    /// <summary>
    /// Stops every node the clean way (each hands its partitions over with a final snapshot) and starts as many new ones in
    /// the same namespace, which replay the partitions' logs: without a ledger the snapshots are the nodes' own, so a
    /// restart always reads the log alone, whatever <paramref name="keepSnapshots"/> says.
    /// </summary>
    protected override async Task<EnginesUnderTest?> RestartEnginesAsync(EnginesUnderTest engines, TallyEngineOptions options, bool keepSnapshots)
    {
        engines.Appends.Open();
        foreach (var node in _nodes[engines])
        {
            await ClusterNodes.StopNodeAsync(node);
        }

        return await StartNodesAsync(options, "r" + (++_restarts) + "n");
    }

    private async Task<EnginesUnderTest> StartNodesAsync(TallyEngineOptions options, string prefix)
    {
        var gate = new AppendGate();
        var nodes = new List<ClusterEngine>();
        for (var i = 0; i < Nodes; i++)
        {
            nodes.Add(await Cluster.StartNodeAsync(prefix + i, engineOptions: options, time: Clock, configure: node => node.PartitionLog = (_, log) => gate.Wrap(log)));
        }

        // Every node holds its share before the test begins, so that no partition changes hands during it.
        var share = Cluster.Partitions / Nodes;
        await Eventually.WaitUntilAsync(() => nodes.All(n => n.OwnedPartitions.Count == share), ClusterNodes.Timeout);
        var engines = new EnginesUnderTest(nodes[0], nodes[^1], gate, () => nodes.Sum(n => n.QueuedVotes));
        _nodes[engines] = nodes;
        return engines;
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
