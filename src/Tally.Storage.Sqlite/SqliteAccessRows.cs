using Microsoft.Data.Sqlite;
using Tally.Access;

namespace Tally.Storage.Sqlite;

/// <summary>The access store's rows as records, and the commands that carry them (parameters <c>$p0</c>, <c>$p1</c>, …).</summary>
internal static class SqliteAccessRows
{
    public static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue("$p" + i, values[i] ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Unix milliseconds: SQLite keeps times to the millisecond.</summary>
    public static long Time(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    public static object Time(DateTimeOffset? at) => at is { } t ? t.ToUnixTimeMilliseconds() : DBNull.Value;

    /// <summary>Columns <c>id, name, created_at, settings</c>.</summary>
    public static Workspace Workspace(SqliteDataReader row) =>
        new(row.GetString(0), row.GetString(1), ReadTime(row, 2), WorkspaceSettingsJson.Decode(row.GetString(3)));

    /// <summary>Columns <c>id, workspace, name, scopes, secret_hash, created_at, expires_at, revoked_at, last_used_at, created_by</c>.</summary>
    public static ApiKey Key(SqliteDataReader row) => new(
        row.GetString(0),
        row.GetString(1),
        row.GetString(2),
        (Scopes)row.GetInt64(3),
        row.GetFieldValue<byte[]>(4),
        ReadTime(row, 5),
        ReadNullableTime(row, 6),
        ReadNullableTime(row, 7),
        ReadNullableTime(row, 8),
        row.IsDBNull(9) ? null : row.GetString(9));

    /// <summary>Columns <c>id, workspace, at, actor, action, target, detail</c>.</summary>
    public static AuditEntry Audit(SqliteDataReader row) => new(
        row.GetInt64(0),
        row.GetString(1),
        ReadTime(row, 2),
        row.GetString(3),
        row.GetString(4),
        row.IsDBNull(5) ? null : row.GetString(5),
        row.IsDBNull(6) ? null : row.GetString(6));

    private static DateTimeOffset ReadTime(SqliteDataReader row, int column) => DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(column));

    private static DateTimeOffset? ReadNullableTime(SqliteDataReader row, int column) => row.IsDBNull(column) ? null : ReadTime(row, column);
}
