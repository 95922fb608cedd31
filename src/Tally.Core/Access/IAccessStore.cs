namespace Tally.Access;

/// <summary>
/// The port for who may do what: workspaces, their API keys and audit log, and the server's own signing secrets.
/// Embedded mode keeps them in SQLite beside the event log, cluster mode in PostgreSQL. Every write that changes
/// what a credential may do (a workspace's settings, a key made or revoked) raises <see cref="ReadVersionAsync"/>'s
/// number, so each node's caches can tell, with one small read, that they must be dropped. Times are kept to the
/// millisecond at least and read back in UTC. <c>AccessStoreSpecification</c> (tests) is the full contract.
/// </summary>
public interface IAccessStore
{
    /// <summary>Creates the schema when it is missing. Called once at start, before anything else.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>A number that grows with every write that changes access (not with key use).</summary>
    Task<long> ReadVersionAsync(CancellationToken cancellationToken);

    Task<Workspace?> FindWorkspaceAsync(string id, CancellationToken cancellationToken);

    /// <summary>The workspace whose JWT settings name <paramref name="issuer"/>, if any.</summary>
    Task<Workspace?> FindWorkspaceByIssuerAsync(string issuer, CancellationToken cancellationToken);

    /// <summary>Every workspace, in id order.</summary>
    Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken);

    /// <summary>Adds a workspace: <see cref="AccessWrite.IdTaken"/> or <see cref="AccessWrite.IssuerTaken"/> when it clashes.</summary>
    Task<AccessWrite> CreateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken);

    /// <summary>Replaces a workspace's name and settings (its id and creation time stay).</summary>
    Task<AccessWrite> UpdateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken);

    /// <summary>Adds a key; its id is new (random), and its workspace exists: <see cref="InvalidOperationException"/> otherwise, and nothing is stored.</summary>
    Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken);

    Task<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>A workspace's keys, revoked ones included, newest first.</summary>
    Task<IReadOnlyList<ApiKey>> ListKeysAsync(string workspace, CancellationToken cancellationToken);

    /// <summary>Revokes the workspace's key; revoking a revoked key is done (its time stays the first one).</summary>
    Task<AccessWrite> RevokeKeyAsync(string workspace, string keyId, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Records when keys were last used (written now and then, not per request). Does not change the version.</summary>
    Task RecordKeyUseAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken);

    /// <summary>Stores an audit entry and returns its id.</summary>
    Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken);

    /// <summary>A workspace's audit entries, newest first: at most <paramref name="limit"/>, with ids below <paramref name="beforeId"/> when given. <paramref name="limit"/> is 0 or more.</summary>
    Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(string workspace, int limit, long? beforeId, CancellationToken cancellationToken);

    /// <summary>
    /// The secret stored under <paramref name="name"/>; when there is none yet, stores <paramref name="candidate"/> and
    /// returns it. Nodes starting together all get the one that was stored first.
    /// </summary>
    Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken);
}
