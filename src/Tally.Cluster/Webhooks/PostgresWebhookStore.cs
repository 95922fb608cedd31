using Npgsql;
using NpgsqlTypes;
using Tally.Cluster.Access;
using Tally.Cluster.Ledger;
using Tally.Webhooks;

namespace Tally.Cluster.Webhooks;

/// <summary>
/// Webhook endpoints, their cursors and delivery logs in PostgreSQL, shared by every node (tables from
/// <see cref="LedgerSchema"/>'s migrations). A cursor moves by compare-and-set, in the transaction that stores the
/// attempts, so a delivery that runs on two nodes for a moment (a hand-over) cannot move it back. Endpoints belong to
/// the cluster whose event stream their cursors count in (<paramref name="stream"/>): clusters sharing one database
/// never see each other's.
/// </summary>
internal sealed class PostgresWebhookStore(NpgsqlDataSource data, string stream) : IWebhookStore
{
    private const string EndpointColumns = "id, workspace, created_at, cursor, document";
    private const string AttemptColumns = "id, endpoint, message_id, event_type, position, attempt, at, status, succeeded, duration_ms, error";

    public Task OpenAsync(CancellationToken cancellationToken) => LedgerSchema.MigrateAsync(data, cancellationToken);

    public async Task<bool> CreateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        await using var command = data.CreateCommand($"INSERT INTO webhook_endpoints ({EndpointColumns}, stream) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING");
        command.Parameters.Add(PostgresAccessRows.Text(endpoint.Id));
        command.Parameters.Add(PostgresAccessRows.Text(endpoint.Workspace));
        command.Parameters.Add(PostgresAccessRows.Time(endpoint.CreatedAt));
        command.Parameters.Add(Bigint(endpoint.Cursor));
        command.Parameters.Add(PostgresAccessRows.Text(WebhookEndpointJson.Encode(endpoint)));
        command.Parameters.Add(PostgresAccessRows.Text(stream));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<WebhookEndpoint?> FindAsync(string workspace, string id, CancellationToken cancellationToken)
    {
        var found = await ReadEndpointsAsync($"SELECT {EndpointColumns} FROM webhook_endpoints WHERE id = $1 AND workspace = $2 AND stream = $3", cancellationToken,
            PostgresAccessRows.Text(id), PostgresAccessRows.Text(workspace), PostgresAccessRows.Text(stream)).ConfigureAwait(false);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string? workspace, CancellationToken cancellationToken) => workspace is null
        ? ReadEndpointsAsync($"SELECT {EndpointColumns} FROM webhook_endpoints WHERE stream = $1 ORDER BY id COLLATE \"C\"", cancellationToken, PostgresAccessRows.Text(stream))
        : ReadEndpointsAsync($"SELECT {EndpointColumns} FROM webhook_endpoints WHERE workspace = $1 AND stream = $2 ORDER BY id COLLATE \"C\"", cancellationToken, PostgresAccessRows.Text(workspace), PostgresAccessRows.Text(stream));

    public async Task<bool> UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        await using var command = data.CreateCommand("UPDATE webhook_endpoints SET document = $3 WHERE id = $1 AND workspace = $2 AND stream = $4");
        command.Parameters.Add(PostgresAccessRows.Text(endpoint.Id));
        command.Parameters.Add(PostgresAccessRows.Text(endpoint.Workspace));
        command.Parameters.Add(PostgresAccessRows.Text(WebhookEndpointJson.Encode(endpoint)));
        command.Parameters.Add(PostgresAccessRows.Text(stream));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<bool> DeleteAsync(string workspace, string id, CancellationToken cancellationToken)
    {
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var delete = new NpgsqlCommand("DELETE FROM webhook_endpoints WHERE id = $1 AND workspace = $2 AND stream = $3", connection, transaction);
        delete.Parameters.Add(PostgresAccessRows.Text(id));
        delete.Parameters.Add(PostgresAccessRows.Text(workspace));
        delete.Parameters.Add(PostgresAccessRows.Text(stream));
        if (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
        {
            return false;
        }

        await using var attempts = new NpgsqlCommand("DELETE FROM webhook_attempts WHERE endpoint = $1", connection, transaction);
        attempts.Parameters.Add(PostgresAccessRows.Text(id));
        await attempts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> SaveProgressAsync(string id, long expected, long next, IReadOnlyList<WebhookAttempt> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var a in attempts)
        {
            var insert = new NpgsqlBatchCommand(
                "INSERT INTO webhook_attempts (endpoint, message_id, event_type, position, attempt, at, status, succeeded, duration_ms, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
            insert.Parameters.Add(PostgresAccessRows.Text(id));
            insert.Parameters.Add(PostgresAccessRows.Text(a.MessageId));
            insert.Parameters.Add(PostgresAccessRows.Text(a.EventType));
            insert.Parameters.Add(Bigint(a.Position));
            insert.Parameters.Add(Int(a.Attempt));
            insert.Parameters.Add(PostgresAccessRows.Time(a.At));
            insert.Parameters.Add(Int(a.Status));
            insert.Parameters.Add(new NpgsqlParameter { Value = a.Succeeded, NpgsqlDbType = NpgsqlDbType.Boolean });
            insert.Parameters.Add(Int(a.DurationMs));
            insert.Parameters.Add(PostgresAccessRows.Text(a.Error));
            batch.BatchCommands.Add(insert);
        }

        if (attempts.Count > 0)
        {
            var prune = new NpgsqlBatchCommand(
                "DELETE FROM webhook_attempts WHERE endpoint = $1 AND id <= (SELECT id FROM webhook_attempts WHERE endpoint = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)");
            prune.Parameters.Add(PostgresAccessRows.Text(id));
            prune.Parameters.Add(Int(IWebhookStore.AttemptsKept));
            batch.BatchCommands.Add(prune);
        }

        var move = new NpgsqlBatchCommand("UPDATE webhook_endpoints SET cursor = $3 WHERE id = $1 AND cursor = $2");
        move.Parameters.Add(PostgresAccessRows.Text(id));
        move.Parameters.Add(Bigint(expected));
        move.Parameters.Add(Bigint(next));
        batch.BatchCommands.Add(move);
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return move.RecordsAffected == 1;
    }

    public async Task<bool> SetCursorAsync(string workspace, string id, long cursor, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand("UPDATE webhook_endpoints SET cursor = $3 WHERE id = $1 AND workspace = $2 AND stream = $4");
        command.Parameters.Add(PostgresAccessRows.Text(id));
        command.Parameters.Add(PostgresAccessRows.Text(workspace));
        command.Parameters.Add(Bigint(cursor));
        command.Parameters.Add(PostgresAccessRows.Text(stream));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<WebhookAttempt>> ReadAttemptsAsync(string id, int limit, long? beforeId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await using var command = data.CreateCommand($"SELECT {AttemptColumns} FROM webhook_attempts WHERE endpoint = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
        command.Parameters.Add(PostgresAccessRows.Text(id));
        command.Parameters.Add(Bigint(beforeId ?? long.MaxValue));
        command.Parameters.Add(Int(limit));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var attempts = new List<WebhookAttempt>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            attempts.Add(new WebhookAttempt(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt32(5),
                reader.GetFieldValue<DateTimeOffset>(6), reader.GetInt32(7), reader.GetBoolean(8), reader.GetInt32(9), reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        return attempts;
    }

    private static NpgsqlParameter Bigint(long value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Bigint };

    private static NpgsqlParameter Int(int value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Integer };

    private async Task<IReadOnlyList<WebhookEndpoint>> ReadEndpointsAsync(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = data.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var endpoints = new List<WebhookEndpoint>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            endpoints.Add(WebhookEndpointJson.Decode(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(3), reader.GetString(4)));
        }

        return endpoints;
    }
}
