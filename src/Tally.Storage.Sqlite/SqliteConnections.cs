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

    public static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
