namespace Tally.Storage.Sqlite;

/// <summary>
/// Keeps the database private to the user that runs Tally: the data folder is made 0700 when created here,
/// the database file 0600 before SQLite first opens it. SQLite makes its <c>-wal</c> and <c>-shm</c> files with
/// the database file's mode, so they are 0600 too. Nothing is done on Windows, whose folders inherit ACLs.
/// </summary>
internal static class SqliteFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = OwnerOnly | UnixFileMode.UserExecute;
    private const UnixFileMode GroupOrOthers = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>The files of one database: SQLite's main file, its write-ahead log and its shared-memory index.</summary>
    public static string[] Of(string databasePath) => [databasePath, databasePath + "-wal", databasePath + "-shm"];

    /// <summary>
    /// Refuses, with a message an operator can act on, a data folder Tally cannot write (mounted read-only, not its
    /// user's, full): checked once at start, before SQLite's own "unable to open database file".
    /// </summary>
    public static void CheckWritable(string databasePath)
    {
        var folder = Path.GetDirectoryName(databasePath)!;
        if (!Directory.Exists(folder))
        {
            return; // made by CreateDatabase, which says so itself when it cannot
        }

        var probe = Path.Combine(folder, ".tally-write-check");
        try
        {
            using (var file = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
            {
                file.WriteByte(1);
            }

            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(
                $"The data folder {folder} cannot be written ({ex.Message.TrimEnd('.')}): it is read-only, full, or not this user's. Tally keeps its log there and takes no vote it cannot store; nothing in it was changed. Make it writable (or point TALLY_DATA elsewhere) and start again.", ex);
        }
    }

    /// <summary>
    /// SQLite's "database disk image is malformed" (or "file is not a database") as a refusal an operator can act on, or
    /// null for any other error: Tally does not start on a damaged database rather than serve a tally it cannot trust.
    /// </summary>
    public static InvalidOperationException? Damaged(Exception ex, string databasePath) =>
        ex is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 11 or 26 } sqlite
            ? new InvalidOperationException(
                $"The database {databasePath} is damaged (SQLite: {sqlite.Message.Split('\'')[1..].FirstOrDefault() ?? sqlite.Message}): a torn or changed page. Tally does not start on it rather than serve a tally it cannot trust. Restore the data folder from a backup, or recover what SQLite can (sqlite3 {Path.GetFileName(databasePath)} \".recover\") into a new file, then start again.", ex)
            : null;

    /// <summary>Creates the folder (0700) and an empty database file (0600) when they are missing; an empty file is an empty database to SQLite.</summary>
    public static void CreateDatabase(string databasePath)
    {
        var folder = Path.GetDirectoryName(databasePath)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }

        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder); // a folder that was there is the operator's: left as it is
        }

        if (File.Exists(databasePath))
        {
            return;
        }

        try
        {
            using var created = new FileStream(databasePath, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly });
        }
        catch (IOException) when (File.Exists(databasePath))
        {
            // Another connection created it first (the log and the snapshot store open their own); Tighten sees to its mode.
        }
    }

    /// <summary>Makes the database's files that exist and that the group or others may use 0600; returns the ones it changed.</summary>
    public static IReadOnlyList<string> Tighten(string databasePath)
    {
        if (OperatingSystem.IsWindows())
        {
            return [];
        }

        var tightened = new List<string>();
        foreach (var file in Of(databasePath))
        {
            if (File.Exists(file) && (File.GetUnixFileMode(file) & GroupOrOthers) != 0)
            {
                File.SetUnixFileMode(file, File.GetUnixFileMode(file) & ~GroupOrOthers);
                tightened.Add(file);
            }
        }

        return tightened;
    }
}
