using Tally.Access;
using Xunit;
using static Tally.Testing.TestAccess;

namespace Tally.Testing;

/// <summary>
/// The ground under <see cref="AccessStoreSpecification"/>: how a test gets a store (each adapter says how to make a
/// fresh one and how to reopen the same storage), and what the access store keeps besides access itself: the
/// append-only audit log and the server's secrets.
/// </summary>
public abstract class AccessStoreRecordsSpecification : IAsyncLifetime
{
    private readonly List<IAccessStore> _opened = [];

    /// <summary>A new store over empty storage, not yet opened.</summary>
    protected abstract IAccessStore CreateStore();

    /// <summary>A new instance over the storage of the last <see cref="CreateStore"/>, not yet opened; null when the adapter keeps nothing across instances.</summary>
    protected abstract IAccessStore? Reopen();

    protected static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(30);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            if (store is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
            else if (store is IDisposable plain)
            {
                plain.Dispose();
            }
        }
    }

    [Fact]
    public async Task Audit_entries_get_increasing_ids_and_read_back_newest_first()
    {
        var store = await OpenAsync(CreateStore());
        AuditEntry[] entries = [new(999, "acme", Epoch, "root", "workspace.created", "acme", null),
            new(0, "acme", Epoch.AddSeconds(1), "key:k1", "key.created", "k2", "CI (polls:manage) — \"é\""),
            new(0, "acme", Epoch.AddSeconds(1), "jwt:user-7", "poll.closed", null, null)];

        var ids = new List<long>();
        foreach (var entry in entries)
        {
            ids.Add(await Wait(store.AppendAuditAsync(entry, default)));
        }

        Assert.True(ids[0] < ids[1] && ids[1] < ids[2], string.Join(", ", ids));
        var read = await Wait(store.ReadAuditAsync("acme", 10, null, default));
        Assert.Equal(entries.Select((e, i) => Fingerprint(e with { Id = ids[i] })).Reverse(), read.Select(Fingerprint));
    }

    [Fact]
    public async Task Audit_pages_by_limit_and_before_id_within_one_workspace()
    {
        var store = await OpenAsync(CreateStore());
        var ids = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await Wait(store.AppendAuditAsync(Audit("a", "act." + i, Epoch.AddSeconds(i)), default)));
            await Wait(store.AppendAuditAsync(Audit("b", "other." + i), default));
        }

        ids.Reverse(); // newest first
        var pages = new List<long>();
        long? before = null;
        for (var page = 0; page < 5; page++)
        {
            var entries = await Wait(store.ReadAuditAsync("a", 3, before, default));
            Assert.True(entries.Count <= 3);
            Assert.All(entries, e => Assert.Equal("a", e.Workspace));
            pages.AddRange(entries.Select(e => e.Id));
            if (entries.Count == 0)
            {
                break;
            }

            before = entries[^1].Id;
        }

        Assert.Equal(ids, pages);
        Assert.Equal(ids[4..], (await Wait(store.ReadAuditAsync("a", 100, ids[3], default))).Select(e => e.Id));
        Assert.Equal(ids[..1], (await Wait(store.ReadAuditAsync("a", 1, null, default))).Select(e => e.Id));
        Assert.Empty(await Wait(store.ReadAuditAsync("a", 0, null, default)));
        Assert.Empty(await Wait(store.ReadAuditAsync("a", 10, ids[^1], default)));
        Assert.Empty(await Wait(store.ReadAuditAsync("c", 10, null, default)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ReadAuditAsync("a", -1, null, default).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_secret_is_stored_once_and_later_candidates_get_the_stored_one()
    {
        var store = await OpenAsync(CreateStore());
        var candidate = Hash("first");

        var first = await Wait(store.GetOrAddSecretAsync("jwt-signing", candidate, default));
        candidate[0] ^= 0xFF; // the caller's array is not the stored value
        first[1] ^= 0xFF; // nor is the returned one
        var second = await Wait(store.GetOrAddSecretAsync("jwt-signing", Hash("second"), default));
        var other = await Wait(store.GetOrAddSecretAsync("invite-codes", [1, 2, 3], default));

        Assert.Equal(Hash("first"), second);
        Assert.Equal(new byte[] { 1, 2, 3 }, other);
    }

    [Fact]
    public async Task Concurrent_callers_all_get_the_secret_stored_first()
    {
        var store = await OpenAsync(CreateStore());
        var candidates = Enumerable.Range(0, 16).Select(i => Hash("candidate " + i)).ToArray();

        var got = await Task.WhenAll(candidates.Select(c => Task.Run(() => store.GetOrAddSecretAsync("node-key", c, default)))).WaitAsync(Timeout);

        Assert.Single(got.Select(Convert.ToHexString).Distinct());
        Assert.Contains(candidates, c => c.AsSpan().SequenceEqual(got[0]));
        Assert.Equal(got[0], await Wait(store.GetOrAddSecretAsync("node-key", Hash("late"), default)));
    }

    protected async Task<IAccessStore> OpenAsync(IAccessStore store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _opened.Add(store);
        await store.OpenAsync(default).WaitAsync(Timeout);
        return store;
    }

    protected static Task<T> Wait<T>(Task<T> task) => task.WaitAsync(Timeout);

    protected static Task Wait(Task task) => task.WaitAsync(Timeout);
}
