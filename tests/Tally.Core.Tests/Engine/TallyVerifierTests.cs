using Tally.Engine;
using Tally.Polls;
using Tally.Storage;

namespace Tally.Core.Tests.Engine;

/// <summary>
/// An engine that cannot list its polls now (a cluster node while a partition changes hands; an engine not running)
/// makes a verification unavailable, not a failure: the endpoint answers 503 and the caller retries. The cluster fault
/// harness found the 500 this used to be (seed 1008 of the soak: verify run right after a node's restart).
/// </summary>
public sealed class TallyVerifierTests
{
    [Fact]
    public async Task An_engine_that_cannot_list_its_polls_makes_the_verification_unavailable_with_its_rejection()
    {
        await using var engine = new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), new TallyEngineOptions());
        var unavailable = await Assert.ThrowsAsync<VerifyUnavailableException>(() => TallyVerifier.VerifyAsync(engine, default));
        Assert.Equal(RejectionKind.Unavailable, unavailable.Rejection.Kind);
    }
}
