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
