using Microsoft.Data.Sqlite;

namespace Tally.Storage.Sqlite;

/// <summary>Opens connections to Tally's database with the settings every connection needs.</summary>
internal static class SqliteConnections
{
    /// <summary>Opens a connection; a read-write one creates the database (and its folder) first if missing, owner-only (<see cref="SqliteFiles"/>).</summary>
    public static async Task<SqliteConnection> OpenAsync(SqliteStorageOptions options, bool readOnly, CancellationToken cancellationToken)
    {
        if (!readOnly)
        {
            SqliteFiles.CreateDatabase(options.DatabasePath);
        }

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA busy_timeout = 10000;", cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="write"/> in a transaction of its own and commits it: one write at a time through
    /// <paramref name="turns"/>, on a connection of its own with <paramref name="pragmas"/> set, that takes SQLite's write
    /// lock at once (<c>BEGIN IMMEDIATE</c>: no lock upgrade to fail midway; it waits up to the busy timeout while the log
    /// commits). A refusal that wrote nothing commits nothing.
    /// </summary>
    public static async Task<T> WriteAsync<T>(SqliteStorageOptions options, SemaphoreSlim turns, string pragmas, Func<SqliteTransaction, CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        await turns.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var connection = await OpenAsync(options, readOnly: false, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, pragmas, cancellationToken).ConfigureAwait(false);
            await using var transaction = connection.BeginTransaction(deferred: false);
            var result = await write(transaction, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        finally
        {
            turns.Release();
        }
    }

    public static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
