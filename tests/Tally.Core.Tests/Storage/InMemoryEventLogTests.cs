using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Storage;

public sealed class InMemoryEventLogTests : EventLogSpecification
{
    protected override IEventLog CreateLog() => new InMemoryEventLog();

    protected override IEventLog? Reopen() => null;
}
