using Npgsql;
using NpgsqlTypes;
using Tally.Access;

namespace Tally.Cluster.Access;

/// <summary>The access store's rows as records, and typed parameters (so a null still says what it is).</summary>
internal static class PostgresAccessRows
{
    public static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    /// <summary>timestamptz, which Npgsql writes from UTC only (and reads back in UTC).</summary>
    public static NpgsqlParameter Time(DateTimeOffset? value) => new() { Value = value is { } at ? at.ToUniversalTime() : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    public static NpgsqlParameter Json(string value) => new() { Value = value, NpgsqlDbType = NpgsqlDbType.Jsonb };

    /// <summary>Columns <c>id, name, created_at, settings</c>.</summary>
    public static Workspace Workspace(NpgsqlDataReader row) =>
        new(row.GetString(0), row.GetString(1), row.GetFieldValue<DateTimeOffset>(2), WorkspaceSettingsJson.Decode(row.GetString(3)));

    /// <summary>Columns <c>id, workspace, name, scopes, secret_hash, created_at, expires_at, revoked_at, last_used_at, created_by</c>.</summary>
    public static ApiKey Key(NpgsqlDataReader row) => new(
        row.GetString(0),
        row.GetString(1),
        row.GetString(2),
        (Scopes)row.GetInt32(3),
        row.GetFieldValue<byte[]>(4),
        row.GetFieldValue<DateTimeOffset>(5),
        NullableTime(row, 6),
        NullableTime(row, 7),
        NullableTime(row, 8),
        row.IsDBNull(9) ? null : row.GetString(9));

    /// <summary>Columns <c>id, workspace, at, actor, action, target, detail</c>.</summary>
    public static AuditEntry Audit(NpgsqlDataReader row) => new(
        row.GetInt64(0),
        row.GetString(1),
        row.GetFieldValue<DateTimeOffset>(2),
        row.GetString(3),
        row.GetString(4),
        row.IsDBNull(5) ? null : row.GetString(5),
        row.IsDBNull(6) ? null : row.GetString(6));

    private static DateTimeOffset? NullableTime(NpgsqlDataReader row, int column) => row.IsDBNull(column) ? null : row.GetFieldValue<DateTimeOffset>(column);
}
