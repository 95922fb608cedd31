using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Tally.Access;

namespace Tally.Storage.Sqlite;

/// <summary>
/// Workspaces, API keys, the audit log and the server's secrets in the event log's SQLite file, in tables of their
/// own. Every call opens a connection of its own, as the log's readers do: a read runs beside the log's group commit
/// (WAL readers do not wait for the writer), and writes take turns here, then take SQLite's write lock at once
/// (<c>BEGIN IMMEDIATE</c>, waiting up to the busy timeout while the log commits). A write that changes access
/// raises the one-row version in its own transaction, so <see cref="ReadVersionAsync"/> never sees one without the other.
/// </summary>
internal sealed class SqliteAccessStore : IAccessStore, IDisposable
{
    // Times are Unix milliseconds (UTC). Settings are a JSON document (WorkspaceSettingsJson), so a settings field
    // added later needs no migration; its JWT issuer is copied into jwt_issuer, where a unique index (NULLs apart)
    // keeps one issuer to one workspace.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS workspaces (
            id         TEXT    PRIMARY KEY,
            name       TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            jwt_issuer TEXT,
            settings   TEXT    NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS workspaces_jwt_issuer ON workspaces (jwt_issuer);
        CREATE TABLE IF NOT EXISTS api_keys (
            id           TEXT    PRIMARY KEY,
            workspace    TEXT    NOT NULL REFERENCES workspaces (id),
            name         TEXT    NOT NULL,
            scopes       INTEGER NOT NULL,
            secret_hash  BLOB    NOT NULL,
            created_at   INTEGER NOT NULL,
            expires_at   INTEGER,
            revoked_at   INTEGER,
            last_used_at INTEGER,
            created_by   TEXT
        );
        CREATE INDEX IF NOT EXISTS api_keys_by_workspace ON api_keys (workspace, created_at DESC, id DESC);
        CREATE TABLE IF NOT EXISTS audit_log (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            workspace TEXT    NOT NULL,
            at        INTEGER NOT NULL,
            actor     TEXT    NOT NULL,
            action    TEXT    NOT NULL,
            target    TEXT,
            detail    TEXT
        );
        CREATE INDEX IF NOT EXISTS audit_log_by_workspace ON audit_log (workspace, id DESC);
        CREATE TABLE IF NOT EXISTS server_secrets (
            name  TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
        CREATE TABLE IF NOT EXISTS access_version (
            id      INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL
        );
        INSERT INTO access_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
        """;

    private const string RaiseVersion = "UPDATE access_version SET version = version + 1 WHERE id = 1;";
    private const string WorkspaceColumns = "id, name, created_at, settings";
    private const string KeyColumns = "id, workspace, name, scopes, secret_hash, created_at, expires_at, revoked_at, last_used_at, created_by";

    private readonly SqliteStorageOptions _options;
    private readonly SemaphoreSlim _writes = new(1, 1);

    public SqliteAccessStore(IOptions<SqliteStorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
    }

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        // The folder (0700) and the file (0600) are made by SqliteConnections, whichever store opens first.
        SqliteFiles.CheckWritable(_options.DatabasePath);
        try
        {
            await using var connection = await SqliteConnections.OpenAsync(_options, readOnly: false, cancellationToken).ConfigureAwait(false);
            await SqliteConnections.ExecuteAsync(connection, "PRAGMA journal_mode = WAL;" + Schema, cancellationToken).ConfigureAwait(false);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex) when (SqliteFiles.Damaged(ex, _options.DatabasePath) is { } damaged)
        {
            throw damaged;
        }
    }

    public async Task<long> ReadVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await ReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteAccessRows.Command(connection, null, "SELECT version FROM access_version WHERE id = 1;");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<Workspace?> FindWorkspaceAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var found = await ReadWorkspacesAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE id = $p0;", id, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<Workspace?> FindWorkspaceByIssuerAsync(string issuer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var found = await ReadWorkspacesAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE jwt_issuer = $p0;", issuer, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken) =>
        ReadWorkspacesAsync($"SELECT {WorkspaceColumns} FROM workspaces ORDER BY id;", null, cancellationToken); // BINARY collation: ordinal

    public Task<AccessWrite> CreateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return WriteAsync(async (transaction, ct) =>
        {
            var issuer = workspace.Settings.Jwt?.Issuer;
            if (await ExistsAsync(transaction, "SELECT 1 FROM workspaces WHERE id = $p0;", workspace.Id, null, ct).ConfigureAwait(false))
            {
                return AccessWrite.IdTaken;
            }

            if (issuer is not null && await ExistsAsync(transaction, "SELECT 1 FROM workspaces WHERE jwt_issuer = $p0;", issuer, null, ct).ConfigureAwait(false))
            {
                return AccessWrite.IssuerTaken;
            }

            using var insert = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "INSERT INTO workspaces (id, name, created_at, jwt_issuer, settings) VALUES ($p0, $p1, $p2, $p3, $p4);" + RaiseVersion,
                workspace.Id, workspace.Name, SqliteAccessRows.Time(workspace.CreatedAt), issuer, WorkspaceSettingsJson.Encode(workspace.Settings));
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return AccessWrite.Done;
        }, cancellationToken);
    }

    public Task<AccessWrite> UpdateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return WriteAsync(async (transaction, ct) =>
        {
            var issuer = workspace.Settings.Jwt?.Issuer;
            if (!await ExistsAsync(transaction, "SELECT 1 FROM workspaces WHERE id = $p0;", workspace.Id, null, ct).ConfigureAwait(false))
            {
                return AccessWrite.NotFound;
            }

            if (issuer is not null && await ExistsAsync(transaction, "SELECT 1 FROM workspaces WHERE jwt_issuer = $p0 AND id <> $p1;", issuer, workspace.Id, ct).ConfigureAwait(false))
            {
                return AccessWrite.IssuerTaken;
            }

            using var update = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "UPDATE workspaces SET name = $p1, jwt_issuer = $p2, settings = $p3 WHERE id = $p0;" + RaiseVersion,
                workspace.Id, workspace.Name, issuer, WorkspaceSettingsJson.Encode(workspace.Settings));
            await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return AccessWrite.Done;
        }, cancellationToken);
    }

    public Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        return WriteAsync(async (transaction, ct) =>
        {
            if (!await ExistsAsync(transaction, "SELECT 1 FROM workspaces WHERE id = $p0;", key.Workspace, null, ct).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"There is no workspace {key.Workspace}.");
            }

            if (await ExistsAsync(transaction, "SELECT 1 FROM api_keys WHERE id = $p0;", key.Id, null, ct).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"There is a key {key.Id} already.");
            }

            using var insert = SqliteAccessRows.Command(transaction.Connection!, transaction,
                $"INSERT INTO api_keys ({KeyColumns}) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9);" + RaiseVersion,
                key.Id, key.Workspace, key.Name, (long)key.Scopes, key.SecretHash, SqliteAccessRows.Time(key.CreatedAt), SqliteAccessRows.Time(key.ExpiresAt),
                SqliteAccessRows.Time(key.RevokedAt), SqliteAccessRows.Time(key.LastUsedAt), key.CreatedBy);
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    public async Task<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        var found = await ReadKeysAsync($"SELECT {KeyColumns} FROM api_keys WHERE id = $p0;", keyId, cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<ApiKey>> ListKeysAsync(string workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return ReadKeysAsync($"SELECT {KeyColumns} FROM api_keys WHERE workspace = $p0 ORDER BY created_at DESC, id DESC;", workspace, cancellationToken);
    }

    public Task<AccessWrite> RevokeKeyAsync(string workspace, string keyId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(keyId);
        return WriteAsync(async (transaction, ct) =>
        {
            using var revoke = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "UPDATE api_keys SET revoked_at = $p2 WHERE id = $p0 AND workspace = $p1 AND revoked_at IS NULL;", keyId, workspace, SqliteAccessRows.Time(at));
            if (await revoke.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1)
            {
                using var raise = SqliteAccessRows.Command(transaction.Connection!, transaction, RaiseVersion);
                await raise.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                return AccessWrite.Done;
            }

            // Revoked already (its first time stays, nothing changed), or not this workspace's key.
            var exists = await ExistsAsync(transaction, "SELECT 1 FROM api_keys WHERE id = $p0 AND workspace = $p1;", keyId, workspace, ct).ConfigureAwait(false);
            return exists ? AccessWrite.Done : AccessWrite.NotFound;
        }, cancellationToken);
    }

    public Task RecordKeyUseAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lastUsed);
        if (lastUsed.Count == 0)
        {
            return Task.CompletedTask;
        }

        return WriteAsync(async (transaction, ct) =>
        {
            using var update = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "UPDATE api_keys SET last_used_at = $p1 WHERE id = $p0 AND (last_used_at IS NULL OR last_used_at < $p1);", "", 0L);
            foreach (var (id, at) in lastUsed)
            {
                update.Parameters[0].Value = id;
                update.Parameters[1].Value = SqliteAccessRows.Time(at);
                await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    public Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return WriteAsync(async (transaction, ct) =>
        {
            using var insert = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "INSERT INTO audit_log (workspace, at, actor, action, target, detail) VALUES ($p0, $p1, $p2, $p3, $p4, $p5) RETURNING id;",
                entry.Workspace, SqliteAccessRows.Time(entry.At), entry.Actor, entry.Action, entry.Target, entry.Detail);
            return (long)(await insert.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(string workspace, int limit, long? beforeId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await using var connection = await ReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteAccessRows.Command(connection, null,
            "SELECT id, workspace, at, actor, action, target, detail FROM audit_log WHERE workspace = $p0 AND id < $p1 ORDER BY id DESC LIMIT $p2;",
            workspace, beforeId ?? long.MaxValue, (long)limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<AuditEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(SqliteAccessRows.Audit(reader));
        }

        return entries;
    }

    public Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(candidate);
        return WriteAsync(async (transaction, ct) =>
        {
            using (var insert = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "INSERT INTO server_secrets (name, value) VALUES ($p0, $p1) ON CONFLICT (name) DO NOTHING;", name, candidate))
            {
                await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            using var read = SqliteAccessRows.Command(transaction.Connection!, transaction, "SELECT value FROM server_secrets WHERE name = $p0;", name);
            return (byte[])(await read.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, cancellationToken);
    }

    public void Dispose() => _writes.Dispose();

    private Task<T> WriteAsync<T>(Func<SqliteTransaction, CancellationToken, Task<T>> write, CancellationToken cancellationToken) =>
        SqliteConnections.WriteAsync(_options, _writes, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", write, cancellationToken);

    private Task<SqliteConnection> ReaderAsync(CancellationToken cancellationToken) => SqliteConnections.OpenAsync(_options, readOnly: true, cancellationToken);

    private static async Task<bool> ExistsAsync(SqliteTransaction transaction, string sql, object p0, object? p1, CancellationToken cancellationToken)
    {
        using var command = p1 is null
            ? SqliteAccessRows.Command(transaction.Connection!, transaction, sql, p0)
            : SqliteAccessRows.Command(transaction.Connection!, transaction, sql, p0, p1);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    private async Task<IReadOnlyList<Workspace>> ReadWorkspacesAsync(string sql, string? p0, CancellationToken cancellationToken)
    {
        await using var connection = await ReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = p0 is null ? SqliteAccessRows.Command(connection, null, sql) : SqliteAccessRows.Command(connection, null, sql, p0);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var workspaces = new List<Workspace>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            workspaces.Add(SqliteAccessRows.Workspace(reader));
        }

        return workspaces;
    }

    private async Task<IReadOnlyList<ApiKey>> ReadKeysAsync(string sql, string p0, CancellationToken cancellationToken)
    {
        await using var connection = await ReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = SqliteAccessRows.Command(connection, null, sql, p0);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var keys = new List<ApiKey>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            keys.Add(SqliteAccessRows.Key(reader));
        }

        return keys;
    }
}
