using Tally.Testing;
using Tally.Webhooks;

namespace Tally.Core.Tests.Webhooks;

public sealed class InMemoryWebhookStoreTests : WebhookStoreSpecification
{
    private readonly InMemoryWebhookStore _store = new();

    protected override IWebhookStore CreateStore() => _store;

    protected override IWebhookStore? Reopen() => null; // nothing survives a restart in memory
}
