using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Tally.Webhooks;

namespace Tally.Storage.Sqlite;

/// <summary>
/// Webhook endpoints, their cursors and delivery logs in the event log's SQLite file, in tables of their own. Reads
/// open a connection of their own beside the log's group commit; writes take turns here, then SQLite's write lock
/// (<c>BEGIN IMMEDIATE</c>), as the access store's do. Each endpoint's attempts beyond <see cref="IWebhookStore.AttemptsKept"/>
/// are deleted in the transaction that adds new ones.
/// </summary>
internal sealed class SqliteWebhookStore : IWebhookStore, IDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS webhook_endpoints (
            id         TEXT    PRIMARY KEY,
            workspace  TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            cursor     INTEGER NOT NULL,
            document   TEXT    NOT NULL
        );
        CREATE INDEX IF NOT EXISTS webhook_endpoints_by_workspace ON webhook_endpoints (workspace, id);
        CREATE TABLE IF NOT EXISTS webhook_attempts (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            endpoint    TEXT    NOT NULL,
            message_id  TEXT    NOT NULL,
            event_type  TEXT    NOT NULL,
            position    INTEGER NOT NULL,
            attempt     INTEGER NOT NULL,
            at          INTEGER NOT NULL,
            status      INTEGER NOT NULL,
            succeeded   INTEGER NOT NULL,
            duration_ms INTEGER NOT NULL,
            error       TEXT
        );
        CREATE INDEX IF NOT EXISTS webhook_attempts_by_endpoint ON webhook_attempts (endpoint, id DESC);
        """;

    private const string EndpointColumns = "id, workspace, created_at, cursor, document";
    private const string AttemptColumns = "id, endpoint, message_id, event_type, position, attempt, at, status, succeeded, duration_ms, error";

    private readonly SqliteStorageOptions _options;
    private readonly SemaphoreSlim _writes = new(1, 1);

    public SqliteWebhookStore(IOptions<SqliteStorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
    }

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        await using var connection = await SqliteConnections.OpenAsync(_options, readOnly: false, cancellationToken).ConfigureAwait(false);
        await SqliteConnections.ExecuteAsync(connection, "PRAGMA journal_mode = WAL;" + Schema, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> CreateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return WriteAsync(async (transaction, ct) =>
        {
            using var insert = SqliteAccessRows.Command(transaction.Connection!, transaction,
                $"INSERT INTO webhook_endpoints ({EndpointColumns}) VALUES ($p0, $p1, $p2, $p3, $p4) ON CONFLICT (id) DO NOTHING;",
                endpoint.Id, endpoint.Workspace, SqliteAccessRows.Time(endpoint.CreatedAt), endpoint.Cursor, WebhookEndpointJson.Encode(endpoint));
            return await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    public async Task<WebhookEndpoint?> FindAsync(string workspace, string id, CancellationToken cancellationToken)
    {
        var found = await ReadEndpointsAsync($"SELECT {EndpointColumns} FROM webhook_endpoints WHERE id = $p0 AND workspace = $p1;", [id, workspace], cancellationToken).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string? workspace, CancellationToken cancellationToken) => workspace is null
        ? ReadEndpointsAsync($"SELECT {EndpointColumns} FROM webhook_endpoints ORDER BY id;", [], cancellationToken)
        : ReadEndpointsAsync($"SELECT {EndpointColumns} FROM webhook_endpoints WHERE workspace = $p0 ORDER BY id;", [workspace], cancellationToken);

    public Task<bool> UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return WriteAsync(async (transaction, ct) =>
        {
            using var update = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "UPDATE webhook_endpoints SET document = $p2 WHERE id = $p0 AND workspace = $p1;", endpoint.Id, endpoint.Workspace, WebhookEndpointJson.Encode(endpoint));
            return await update.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    public Task<bool> DeleteAsync(string workspace, string id, CancellationToken cancellationToken) => WriteAsync(async (transaction, ct) =>
    {
        using var delete = SqliteAccessRows.Command(transaction.Connection!, transaction,
            "DELETE FROM webhook_endpoints WHERE id = $p0 AND workspace = $p1;", id, workspace);
        if (await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false) != 1)
        {
            return false;
        }

        using var attempts = SqliteAccessRows.Command(transaction.Connection!, transaction, "DELETE FROM webhook_attempts WHERE endpoint = $p0;", id);
        await attempts.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return true;
    }, cancellationToken);

    public Task<bool> SaveProgressAsync(string id, long expected, long next, IReadOnlyList<WebhookAttempt> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        return WriteAsync(async (transaction, ct) =>
        {
            if (attempts.Count > 0)
            {
                foreach (var a in attempts)
                {
                    using var insert = SqliteAccessRows.Command(transaction.Connection!, transaction,
                        "INSERT INTO webhook_attempts (endpoint, message_id, event_type, position, attempt, at, status, succeeded, duration_ms, error) VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9);",
                        id, a.MessageId, a.EventType, a.Position, a.Attempt, SqliteAccessRows.Time(a.At), a.Status, a.Succeeded ? 1 : 0, a.DurationMs, a.Error);
                    await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }

                using var prune = SqliteAccessRows.Command(transaction.Connection!, transaction,
                    "DELETE FROM webhook_attempts WHERE endpoint = $p0 AND id <= (SELECT id FROM webhook_attempts WHERE endpoint = $p0 ORDER BY id DESC LIMIT 1 OFFSET $p1);",
                    id, IWebhookStore.AttemptsKept);
                await prune.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            using var move = SqliteAccessRows.Command(transaction.Connection!, transaction,
                "UPDATE webhook_endpoints SET cursor = $p2 WHERE id = $p0 AND cursor = $p1;", id, expected, next);
            return await move.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
        }, cancellationToken);
    }

    public Task<bool> SetCursorAsync(string workspace, string id, long cursor, CancellationToken cancellationToken) => WriteAsync(async (transaction, ct) =>
    {
        using var set = SqliteAccessRows.Command(transaction.Connection!, transaction,
            "UPDATE webhook_endpoints SET cursor = $p2 WHERE id = $p0 AND workspace = $p1;", id, workspace, cursor);
        return await set.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 1;
    }, cancellationToken);

    public async Task<IReadOnlyList<WebhookAttempt>> ReadAttemptsAsync(string id, int limit, long? beforeId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await using var connection = await SqliteConnections.OpenAsync(_options, readOnly: true, cancellationToken).ConfigureAwait(false);
        using var command = SqliteAccessRows.Command(connection, null,
            $"SELECT {AttemptColumns} FROM webhook_attempts WHERE endpoint = $p0 AND id < $p1 ORDER BY id DESC LIMIT $p2;", id, beforeId ?? long.MaxValue, limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var attempts = new List<WebhookAttempt>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            attempts.Add(new WebhookAttempt(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt32(5),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)), reader.GetInt32(7), reader.GetInt64(8) != 0, reader.GetInt32(9),
                reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        return attempts;
    }

    public void Dispose() => _writes.Dispose();

    private async Task<IReadOnlyList<WebhookEndpoint>> ReadEndpointsAsync(string sql, object[] values, CancellationToken cancellationToken)
    {
        await using var connection = await SqliteConnections.OpenAsync(_options, readOnly: true, cancellationToken).ConfigureAwait(false);
        using var command = SqliteAccessRows.Command(connection, null, sql, values);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var endpoints = new List<WebhookEndpoint>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            endpoints.Add(WebhookEndpointJson.Decode(reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetInt64(3), reader.GetString(4)));
        }

        return endpoints;
    }

    private Task<T> WriteAsync<T>(Func<SqliteTransaction, CancellationToken, Task<T>> write, CancellationToken cancellationToken) =>
        SqliteConnections.WriteAsync(_options, _writes, "PRAGMA synchronous = FULL;", write, cancellationToken);
}
