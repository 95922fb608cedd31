using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Testing;

namespace Tally.Storage.Sqlite.Tests;

public sealed class SqliteAccessStoreTests : AccessStoreSpecification, IDisposable
{
    private readonly TempFolder _folder = new();

    private IOptions<SqliteStorageOptions> StorageOptions => Options.Create(new SqliteStorageOptions { DataPath = _folder.Path });

    protected override IAccessStore CreateStore() => new SqliteAccessStore(StorageOptions);

    protected override IAccessStore? Reopen() => CreateStore();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_store_and_the_event_log_share_one_file_at_once()
    {
        var options = StorageOptions;
        await using var log = new SqliteEventLog(options);
        var store = await OpenAsync(new SqliteAccessStore(options));
        await log.OpenAsync(default).WaitAsync(Timeout);
        await Wait(store.CreateWorkspaceAsync(TestAccess.Workspace("acme"), default));

        // Appends (group commits) and access writes and reads interleave on the one file, each on its own connections.
        var appends = Task.Run(async () =>
        {
            await log.AppendAsync([TestEvents.Created("p1")], default);
            for (var seq = 2; seq <= 201; seq++)
            {
                await log.AppendAsync([TestEvents.Vote("p1", seq, "v" + seq, 1)], default);
            }
        });
        var access = Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await store.CreateKeyAsync(TestAccess.Key("k" + i, "acme", TestAccess.Epoch.AddSeconds(i)), default);
                await store.AppendAuditAsync(TestAccess.Audit("acme", "key.created"), default);
                Assert.NotNull(await store.FindKeyAsync("k" + i, default));
                await store.ReadVersionAsync(default);
            }
        });
        await Task.WhenAll(appends, access).WaitAsync(Timeout);

        Assert.Equal(201, log.CommittedPosition);
        Assert.Equal(50, (await Wait(store.ListKeysAsync("acme", default))).Count);
        Assert.Equal(50, (await Wait(store.ReadAuditAsync("acme", 100, null, default))).Count);
        Assert.Equal(51, await Wait(store.ReadVersionAsync(default)));

        await log.DisposeAsync();
        await using var again = new SqliteEventLog(options);
        await again.OpenAsync(default).WaitAsync(Timeout);
        Assert.Equal(201, again.CommittedPosition);
    }

    [Fact]
    public async Task Opening_the_store_and_the_log_together_on_a_new_file_works()
    {
        var options = StorageOptions;
        await using var log = new SqliteEventLog(options);
        var store = new SqliteAccessStore(options);

        await Task.WhenAll(Task.Run(() => log.OpenAsync(default)), Task.Run(() => OpenAsync(store))).WaitAsync(Timeout);

        Assert.Equal(1, await log.AppendAsync([TestEvents.Created("p1")], default).AsTask().WaitAsync(Timeout));
        Assert.Equal(AccessWrite.Done, await Wait(store.CreateWorkspaceAsync(TestAccess.Workspace("acme"), default)));
    }

    [Fact]
    public void AddTallySqlite_registers_the_access_store_in_place_of_any_other()
    {
        var services = new ServiceCollection().AddSingleton<IAccessStore, InMemoryAccessStore>();

        services.AddTallySqlite(o => o.DataPath = _folder.Path);

        var registration = Assert.Single(services, d => d.ServiceType == typeof(IAccessStore));
        Assert.Equal(typeof(SqliteAccessStore), registration.ImplementationType);
    }
}
