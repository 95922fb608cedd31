using Npgsql;
using NpgsqlTypes;
using Tally.Access;
using Tally.Cluster.Ledger;

namespace Tally.Cluster.Access;

/// <summary>
/// Workspaces, API keys, the audit log and the server's secrets in PostgreSQL, shared by every node (tables from
/// <see cref="LedgerSchema"/>'s migrations). The constraints decide the races between nodes: the primary key and the
/// issuer's unique index turn a clash into <see cref="AccessWrite.IdTaken"/> or <see cref="AccessWrite.IssuerTaken"/>,
/// and a secret is inserted only where none is (<c>ON CONFLICT DO NOTHING</c>) and then read. Every access write
/// raises the one-row version in its own transaction.
/// </summary>
internal sealed class PostgresAccessStore(NpgsqlDataSource data) : IAccessStore
{
    private const string IssuerIndex = "workspaces_jwt_issuer";
    private const string RaiseVersion = "UPDATE access_version SET version = version + 1 WHERE id = 1";
    private const string WorkspaceColumns = "id, name, created_at, settings";
    private const string KeyColumns = "id, workspace, name, scopes, secret_hash, created_at, expires_at, revoked_at, last_used_at, created_by";

    // Audit appends take turns (a transaction-scoped advisory lock) so their ids commit in order: an identity value
    // is taken before commit, and without the turns a reader paging by beforeId could pass an id that commits later.
    private const string TakeAuditTurn = "SELECT pg_advisory_xact_lock(7415553127002)";

    public Task OpenAsync(CancellationToken cancellationToken) => LedgerSchema.MigrateAsync(data, cancellationToken);

    public async Task<long> ReadVersionAsync(CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("SELECT version FROM access_version WHERE id = 1");
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<Workspace?> FindWorkspaceAsync(string id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        var found = await ReadAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE id = $1", PostgresAccessRows.Workspace, cancellationToken, PostgresAccessRows.Text(id)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public async Task<Workspace?> FindWorkspaceByIssuerAsync(string issuer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var found = await ReadAsync($"SELECT {WorkspaceColumns} FROM workspaces WHERE jwt_issuer = $1", PostgresAccessRows.Workspace, cancellationToken, PostgresAccessRows.Text(issuer)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<Workspace>> ListWorkspacesAsync(CancellationToken cancellationToken) =>
        ReadAsync($"SELECT {WorkspaceColumns} FROM workspaces ORDER BY id", PostgresAccessRows.Workspace, cancellationToken);

    public async Task<AccessWrite> CreateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Both clash: the primary key is checked first (indexes are checked in the order they were made).
            await ExecuteAsync(connection, transaction, "INSERT INTO workspaces (id, name, created_at, jwt_issuer, settings) VALUES ($1, $2, $3, $4, $5)", cancellationToken,
                PostgresAccessRows.Text(workspace.Id), PostgresAccessRows.Text(workspace.Name), PostgresAccessRows.Time(workspace.CreatedAt),
                PostgresAccessRows.Text(workspace.Settings.Jwt?.Issuer), PostgresAccessRows.Json(WorkspaceSettingsJson.Encode(workspace.Settings))).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return ex.ConstraintName == IssuerIndex ? AccessWrite.IssuerTaken : AccessWrite.IdTaken;
        }

        await CommitRaisingVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        return AccessWrite.Done;
    }

    public async Task<AccessWrite> UpdateWorkspaceAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var updated = await ExecuteAsync(connection, transaction, "UPDATE workspaces SET name = $2, jwt_issuer = $3, settings = $4 WHERE id = $1", cancellationToken,
                PostgresAccessRows.Text(workspace.Id), PostgresAccessRows.Text(workspace.Name), PostgresAccessRows.Text(workspace.Settings.Jwt?.Issuer),
                PostgresAccessRows.Json(WorkspaceSettingsJson.Encode(workspace.Settings))).ConfigureAwait(false);
            if (updated == 0)
            {
                return AccessWrite.NotFound;
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && ex.ConstraintName == IssuerIndex)
        {
            return AccessWrite.IssuerTaken;
        }

        await CommitRaisingVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        return AccessWrite.Done;
    }

    public async Task CreateKeyAsync(ApiKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, transaction, $"INSERT INTO api_keys ({KeyColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", cancellationToken,
                PostgresAccessRows.Text(key.Id), PostgresAccessRows.Text(key.Workspace), PostgresAccessRows.Text(key.Name),
                new NpgsqlParameter { Value = (int)key.Scopes, NpgsqlDbType = NpgsqlDbType.Integer },
                new NpgsqlParameter { Value = key.SecretHash, NpgsqlDbType = NpgsqlDbType.Bytea },
                PostgresAccessRows.Time(key.CreatedAt), PostgresAccessRows.Time(key.ExpiresAt), PostgresAccessRows.Time(key.RevokedAt),
                PostgresAccessRows.Time(key.LastUsedAt), PostgresAccessRows.Text(key.CreatedBy)).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new InvalidOperationException($"There is no workspace {key.Workspace}.", ex);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new InvalidOperationException($"There is a key {key.Id} already.", ex);
        }

        await CommitRaisingVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        var found = await ReadAsync($"SELECT {KeyColumns} FROM api_keys WHERE id = $1", PostgresAccessRows.Key, cancellationToken, PostgresAccessRows.Text(keyId)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<ApiKey>> ListKeysAsync(string workspace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return ReadAsync($"SELECT {KeyColumns} FROM api_keys WHERE workspace = $1 ORDER BY created_at DESC, id DESC", PostgresAccessRows.Key, cancellationToken, PostgresAccessRows.Text(workspace));
    }

    public async Task<AccessWrite> RevokeKeyAsync(string workspace, string keyId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(keyId);
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var revoked = await ExecuteAsync(connection, transaction, "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND workspace = $2 AND revoked_at IS NULL", cancellationToken,
            PostgresAccessRows.Text(keyId), PostgresAccessRows.Text(workspace), PostgresAccessRows.Time(at)).ConfigureAwait(false);
        if (revoked == 1)
        {
            await CommitRaisingVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            return AccessWrite.Done;
        }

        // Revoked already (its first time stays and nothing changed), or not this workspace's key.
        await using var exists = new NpgsqlCommand("SELECT 1 FROM api_keys WHERE id = $1 AND workspace = $2", connection, transaction)
        {
            Parameters = { PostgresAccessRows.Text(keyId), PostgresAccessRows.Text(workspace) },
        };
        return await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null ? AccessWrite.NotFound : AccessWrite.Done;
    }

    public async Task RecordKeyUseAsync(IReadOnlyCollection<KeyValuePair<string, DateTimeOffset>> lastUsed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lastUsed);
        if (lastUsed.Count == 0)
        {
            return;
        }

        // One statement for the lot; a key named twice takes its latest time (an UPDATE … FROM joining two rows would take either).
        await using var command = data.CreateCommand("""
            UPDATE api_keys AS k SET last_used_at = u.at
            FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::timestamptz[]) AS t (id, at) GROUP BY id) AS u
            WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = lastUsed.Select(u => u.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = lastUsed.Select(u => u.Value.UtcDateTime).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, TakeAuditTurn, cancellationToken).ConfigureAwait(false);
        await using var insert = new NpgsqlCommand("INSERT INTO audit_log (workspace, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", connection, transaction)
        {
            Parameters =
            {
                PostgresAccessRows.Text(entry.Workspace), PostgresAccessRows.Time(entry.At), PostgresAccessRows.Text(entry.Actor),
                PostgresAccessRows.Text(entry.Action), PostgresAccessRows.Text(entry.Target), PostgresAccessRows.Text(entry.Detail),
            },
        };
        var id = (long)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return id;
    }

    public Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(string workspace, int limit, long? beforeId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync("SELECT id, workspace, at, actor, action, target, detail FROM audit_log WHERE workspace = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            PostgresAccessRows.Audit, cancellationToken,
            PostgresAccessRows.Text(workspace),
            new NpgsqlParameter { Value = beforeId ?? long.MaxValue, NpgsqlDbType = NpgsqlDbType.Bigint },
            new NpgsqlParameter { Value = (long)limit, NpgsqlDbType = NpgsqlDbType.Bigint });
    }

    public async Task<byte[]> GetOrAddSecretAsync(string name, byte[] candidate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(candidate);
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // Two statements, not one: a racing insert that commits while this one waits on it is visible to the next
        // statement's snapshot, never to this statement's own.
        await ExecuteAsync(connection, null, "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", cancellationToken,
            PostgresAccessRows.Text(name), new NpgsqlParameter { Value = candidate, NpgsqlDbType = NpgsqlDbType.Bytea }).ConfigureAwait(false);
        await using var read = new NpgsqlCommand("SELECT value FROM server_secrets WHERE name = $1", connection) { Parameters = { PostgresAccessRows.Text(name) } };
        return (byte[])(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task CommitRaisingVersionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, transaction, RaiseVersion, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<T>> ReadAsync<T>(string sql, Func<NpgsqlDataReader, T> row, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = data.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row(reader));
        }

        return rows;
    }
}
