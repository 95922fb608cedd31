namespace Tally.Storage.Sqlite;

/// <summary>Settings of the SQLite event log and snapshot store (section <c>Tally:Sqlite</c>).</summary>
public sealed class SqliteStorageOptions
{
    /// <summary>The data folder; created when missing. The server sets it from <c>TALLY_DATA</c>. Default <c>./data</c>.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>The database file inside <see cref="DataPath"/>. Default <c>tally.db</c>.</summary>
    public string FileName { get; set; } = "tally.db";

    /// <summary>
    /// SQLite's <c>synchronous</c> setting for the log. <c>FULL</c> (default) fsyncs the WAL at every
    /// group commit, so an acknowledged vote survives a power cut; <c>NORMAL</c> survives a killed process only.
    /// </summary>
    public string Synchronous { get; set; } = "FULL";

    /// <summary>Snapshots kept besides the newest. Default 1.</summary>
    public int OlderSnapshotsKept { get; set; } = 1;

    public string DatabasePath => Path.GetFullPath(Path.Combine(DataPath, FileName));
}
