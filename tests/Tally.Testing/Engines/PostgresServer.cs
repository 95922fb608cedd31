using System.Diagnostics;

namespace Tally.Testing.Engines;

/// <summary>
/// PostgreSQL from Debian's binaries: <c>initdb</c> into the temp folder, then <c>postgres</c> listening on
/// 127.0.0.1 only (its socket in the folder too). PostgreSQL refuses to run as root, so under root (CI) the
/// folder is handed to the <c>postgres</c> user the Debian package creates, and the server runs as that user
/// through <c>setpriv</c> (which execs: the process the test holds is postgres itself, so SIGKILL reaches it).
/// </summary>
public sealed class PostgresServer() : LocalServer("postgres")
{
    private const string User = "tally";

    public string ConnectionString => $"Host={Host};Port={Port};Username={User};Database=postgres;Pooling=true;Timeout=5;Command Timeout=10";

    private static bool IsRoot => Environment.UserName == "root";

    private string DataFolder => Path.Combine(Folder, "data");

    protected override string ReadyLine => "database system is ready to accept connections";

    protected override int StopSignal => 2; // SIGINT: fast shutdown

    protected override async Task PrepareAsync()
    {
        if (IsRoot)
        {
            await RunAsync(Start("chown", "-R", "postgres:postgres", Folder));
        }

        await RunAsync(AsPostgres(ServerBinaries.PostgresBin("initdb"), "-D", DataFolder, "-U", User, "-A", "trust", "-E", "UTF8", "--no-sync"));
        if (Host != "127.0.0.1")
        {
            // In a network namespace of the test's own, clients come from the harness's other addresses.
            await File.AppendAllTextAsync(Path.Combine(DataFolder, "pg_hba.conf"), "host all all 0.0.0.0/0 trust\n");
        }
    }

    protected override ProcessStartInfo Command() => AsPostgres(
        ServerBinaries.PostgresBin("postgres"),
        "-D", DataFolder,
        "-p", Port.ToString(),
        "-k", Folder,
        "-c", $"listen_addresses={Host}",
        "-c", "fsync=off", // a killed postgres keeps what the OS has; power loss is not what these tests simulate
        "-c", "max_connections=200");

    private static ProcessStartInfo AsPostgres(string program, params string[] args) =>
        IsRoot ? Start("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program, .. args]) : Start(program, args);

    private static ProcessStartInfo Start(string program, params string[] args)
    {
        // The system's temp folder as the working folder: the postgres user may not enter the test's own (a clone in a
        // private mktemp folder), and initdb and postgres complain when they cannot.
        var start = new ProcessStartInfo(program) { UseShellExecute = false, WorkingDirectory = Path.GetTempPath() };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
