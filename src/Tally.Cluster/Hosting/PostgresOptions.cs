using Npgsql;

namespace Tally.Cluster.Hosting;

/// <summary>Where PostgreSQL is (section <c>Tally:Postgres</c>).</summary>
public sealed class PostgresOptions
{
    /// <summary>An Npgsql connection string, e.g. <c>Host=127.0.0.1;Port=5432;Username=tally;Database=tally</c>. Required in cluster mode.</summary>
    public string? ConnectionString { get; set; }

    public bool IsValid()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            return false;
        }

        try
        {
            return !string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(ConnectionString).Host);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
