using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tally.Access;
using Tally.Server.Access;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Each node's cache of keys and workspaces against one store, on a fake clock: a key revoked through one node is
/// refused by another as soon as that node's next version read runs (<see cref="AccessOptions.RefreshInterval"/>,
/// 0.5 s by default), and not before; an unchanged version keeps the cache.
/// </summary>
public sealed class AccessDirectoryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_key_revoked_through_one_node_is_refused_by_another_after_its_next_version_read()
    {
        var store = new InMemoryAccessStore();
        var now = DateTimeOffset.UtcNow;
        await store.CreateWorkspaceAsync(new Workspace("acme", "Acme", now, WorkspaceSettings.Empty), default);
        await store.CreateKeyAsync(new ApiKey("aaaabbbbcccc", "acme", "k", Scopes.VotesWrite, new byte[32], now, null), default);
        var options = Options.Create(new AccessOptions());
        var clockA = new FakeTimeProvider(now);
        var clockB = new FakeTimeProvider(now);
        await using var nodeA = new AccessDirectory(store, options, clockA, NullLogger<AccessDirectory>.Instance);
        await using var nodeB = new AccessDirectory(store, options, clockB, NullLogger<AccessDirectory>.Instance);
        await nodeA.StartAsync(default);
        await nodeB.StartAsync(default);
        Assert.Null((await nodeB.FindKeyAsync("aaaabbbbcccc", default))!.RevokedAt); // cached on B

        Assert.Equal(AccessWrite.Done, await store.RevokeKeyAsync("acme", "aaaabbbbcccc", now, default));
        nodeA.Invalidate(); // what the node that revoked it does
        Assert.NotNull((await nodeA.FindKeyAsync("aaaabbbbcccc", default))!.RevokedAt);
        Assert.Null((await nodeB.FindKeyAsync("aaaabbbbcccc", default))!.RevokedAt); // B has not read the version yet

        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        nodeB.Changed += () => changed.TrySetResult();
        clockB.Advance(options.Value.RefreshInterval);
        await changed.Task.WaitAsync(Timeout);

        Assert.NotNull((await nodeB.FindKeyAsync("aaaabbbbcccc", default))!.RevokedAt);
    }

    [Fact]
    public async Task Without_a_change_the_cache_is_kept_and_the_store_not_read_again()
    {
        var store = new CountingStore();
        var now = DateTimeOffset.UtcNow;
        await store.CreateWorkspaceAsync(new Workspace("acme", "Acme", now, WorkspaceSettings.Empty), default);
        var clock = new FakeTimeProvider(now);
        await using var node = new AccessDirectory(store, Options.Create(new AccessOptions()), clock, NullLogger<AccessDirectory>.Instance);
        await node.StartAsync(default);

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => node.FindWorkspaceAsync("acme", default).AsTask()));
        for (var i = 0; i < 3; i++)
        {
            var versionReads = store.VersionReads;
            clock.Advance(TimeSpan.FromMilliseconds(500));
            await WaitUntilAsync(() => store.VersionReads > versionReads);
        }

        Assert.NotNull(await node.FindWorkspaceAsync("acme", default));
        Assert.Equal(1, store.WorkspaceReads);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (!condition())
        {
            await Task.Delay(5, deadline.Token);
        }
    }

    private sealed class CountingStore : IAccessStore
    {
        private readonly InMemoryAccessStore _inner = new();
        private int _workspaceReads;
        private int _versionReads;

        public int WorkspaceReads => Volatile.Read(ref _workspaceReads);

        public int VersionReads => Volatile.Read(ref _versionReads);

        public Task OpenAsync(CancellationToken cancellationToken) => _inner.OpenAsync(cancellationToken);

        public Task<long> ReadVersionAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _versionReads);
            return _inner.ReadVersionAsync(cancellationToken);
        }

        public Task<Workspace?> FindWorkspaceAsync(string id, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _workspaceReads);
            return _inner.FindWorkspaceAsync(id, cancellationToken);
        }

        public Task<Workspace?> FindWorkspaceByIssuerAsync(string issuer, CancellationToken cancellationToken) => _inner.FindWorkspaceByIssuerAsync(issuer, cancellationToken);

        public Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken) => _inner.ListWorkspacesAsync(cancellationToken);

        public Task<AccessWrite> CreateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken) => _inner.CreateWorkspaceAsync(workspace, cancellationToken);

        public Task<AccessWrite> UpdateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken) => _inner.UpdateWorkspaceAsync(workspace, cancellationToken);

        public Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken) => _inner.CreateKeyAsync(key, cancellationToken);

        public Task<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken) => _inner.FindKeyAsync(keyId, cancellationToken);

        public Task<IReadOnlyList<ApiKey>> ListKeysAsync(string workspace, CancellationToken cancellationToken) => _inner.ListKeysAsync(workspace, cancellationToken);

        public Task<AccessWrite> RevokeKeyAsync(string workspace, string keyId, DateTimeOffset at, CancellationToken cancellationToken) => _inner.RevokeKeyAsync(workspace, keyId, at, cancellationToken);

        public Task RecordKeyUseAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken) => _inner.RecordKeyUseAsync(lastUsed, cancellationToken);

        public Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken) => _inner.AppendAuditAsync(entry, cancellationToken);

        public Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(string workspace, int limit, long? beforeId, CancellationToken cancellationToken) => _inner.ReadAuditAsync(workspace, limit, beforeId, cancellationToken);

        public Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken) => _inner.GetOrAddSecretAsync(name, candidate, cancellationToken);
    }
}
