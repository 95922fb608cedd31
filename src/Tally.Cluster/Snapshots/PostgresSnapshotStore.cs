using Microsoft.Extensions.Logging;
using Npgsql;
using Tally.Cluster.Ledger;
using Tally.Storage;

namespace Tally.Cluster.Snapshots;

/// <summary>
/// One partition's snapshots in PostgreSQL (the latest only), so a new owner replays just the tail of the
/// partition's subject. PostgreSQL stays off the critical paths: a snapshot that cannot be loaded is treated
/// as none (the owner replays the whole subject: slower, still exact), and one that cannot be saved is
/// reported and tried again at the next snapshot. A snapshot older than the stored one (a deposed owner's
/// last) does not replace it; either would be correct, since a snapshot plus its subject's tail is the state.
/// </summary>
internal sealed class PostgresSnapshotStore(NpgsqlDataSource data, string stream, int partition, ILogger logger) : ISnapshotStore
{
    private bool _migrated;

    public async Task SaveAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        await MigrateOnceAsync(cancellationToken).ConfigureAwait(false);
        await using var command = data.CreateCommand("""
            INSERT INTO partition_snapshots (stream, partition, replay_from, taken_at, data) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (stream, partition) DO UPDATE SET replay_from = excluded.replay_from, taken_at = excluded.taken_at, data = excluded.data
            WHERE partition_snapshots.replay_from <= excluded.replay_from
            """);
        command.Parameters.AddWithValue(stream);
        command.Parameters.AddWithValue(partition);
        command.Parameters.AddWithValue(snapshot.ReplayFrom);
        command.Parameters.AddWithValue(snapshot.TakenAt.ToUniversalTime());
        command.Parameters.AddWithValue(snapshot.Data);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<Snapshot?> LoadLatestAsync(CancellationToken cancellationToken)
    {
        try
        {
            await MigrateOnceAsync(cancellationToken).ConfigureAwait(false);
            await using var command = data.CreateCommand("SELECT replay_from, taken_at, data FROM partition_snapshots WHERE stream = $1 AND partition = $2");
            command.Parameters.AddWithValue(stream);
            command.Parameters.AddWithValue(partition);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new Snapshot(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetFieldValue<byte[]>(2))
                : null;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            ClusterLog.SnapshotUnavailable(logger, partition, ex.Message);
            return null;
        }
    }

    private async Task MigrateOnceAsync(CancellationToken cancellationToken)
    {
        if (!_migrated)
        {
            await LedgerSchema.MigrateAsync(data, cancellationToken).ConfigureAwait(false);
            _migrated = true;
        }
    }
}
