using Microsoft.Extensions.Options;
using Tally.Testing;
using Tally.Webhooks;

namespace Tally.Storage.Sqlite.Tests;

public sealed class SqliteWebhookStoreTests : WebhookStoreSpecification, IDisposable
{
    private readonly TempFolder _folder = new();

    protected override IWebhookStore CreateStore() => new SqliteWebhookStore(Options.Create(new SqliteStorageOptions { DataPath = _folder.Path }));

    protected override IWebhookStore? Reopen() => CreateStore();

    public void Dispose() => _folder.Dispose();
}
