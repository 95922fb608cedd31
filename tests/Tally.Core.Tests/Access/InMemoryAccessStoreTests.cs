using Tally.Access;
using Tally.Testing;

namespace Tally.Core.Tests.Access;

public sealed class InMemoryAccessStoreTests : AccessStoreSpecification
{
    protected override IAccessStore CreateStore() => new InMemoryAccessStore();

    protected override IAccessStore? Reopen() => null;
}
