using Tally.Cluster.Tests.Infrastructure;

namespace Tally.Cluster.Tests.Engine;

/// <summary>Two nodes, half the partitions each: commands go to the first, reads to the second, so most of both are forwarded.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TwoNodeClusterEngineTests(ClusterEngines engines) : ClusterEngineSpecificationTests(engines)
{
    protected override int Nodes => 2;
}
