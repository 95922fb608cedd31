using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Tally.Storage.Sqlite;

/// <summary>Snapshots in the same SQLite file as the log, written on a connection of their own.</summary>
public sealed class SqliteSnapshotStore : ISnapshotStore
{
    internal const string Schema = """
        CREATE TABLE IF NOT EXISTS snapshots (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            replay_from INTEGER NOT NULL,
            taken_at    INTEGER NOT NULL,
            data        BLOB    NOT NULL
        );
        """;

    private readonly SqliteStorageOptions _options;

    public SqliteSnapshotStore(IOptions<SqliteStorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
    }

    public async Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO snapshots (replay_from, taken_at, data) VALUES ($from, $at, $data);";
            insert.Parameters.AddWithValue("$from", snapshot.ReplayFrom);
            insert.Parameters.AddWithValue("$at", snapshot.TakenAt.ToUnixTimeMilliseconds());
            insert.Parameters.Add("$data", SqliteType.Blob).Value = snapshot.Data;
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using (var prune = connection.CreateCommand())
        {
            prune.Transaction = transaction;
            prune.CommandText = "DELETE FROM snapshots WHERE id NOT IN (SELECT id FROM snapshots ORDER BY id DESC LIMIT $keep);";
            prune.Parameters.AddWithValue("$keep", 1 + Math.Max(0, _options.OlderSnapshotsKept));
            await prune.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<Snapshot?> LoadLatestAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT replay_from, taken_at, data FROM snapshots ORDER BY id DESC LIMIT 1;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new Snapshot(reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), (byte[])reader.GetValue(2));
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await SqliteConnections.OpenAsync(_options, readOnly: false, cancellationToken).ConfigureAwait(false);
        await SqliteConnections.ExecuteAsync(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;" + Schema, cancellationToken).ConfigureAwait(false);
        return connection;
    }
}
