using Tally.Cluster.Tests.Infrastructure;

namespace Tally.Cluster.Tests.Engine;

/// <summary>One node: it owns every partition, so nothing is forwarded.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OneNodeClusterEngineTests(ClusterEngines engines) : ClusterEngineSpecificationTests(engines)
{
    protected override int Nodes => 1;
}
