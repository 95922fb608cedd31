namespace Tally.Testing.Engines;

/// <summary>
/// Finds the engines' binaries that <c>./test.sh</c> installs from Debian's packages. A missing one fails
/// the test that needs it with a message saying how to get it: cluster tests never skip.
/// </summary>
public static class ServerBinaries
{
    public static string NatsServer => Find("nats-server", "nats-server");

    public static string RedisServer => Find("redis-server", "redis-server");

    public static string PostgresBin(string tool)
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        foreach (var dir in versions)
        {
            var path = Path.Combine(dir, "bin", tool);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException(
            $"PostgreSQL's {tool} was not found under /usr/lib/postgresql/*/bin. Run ./test.sh (it installs the Debian package) or `apt-get install postgresql`.");
    }

    private static string Find(string name, string package)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"]))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"{name} was not found on PATH or in /usr/sbin, /usr/bin. Run ./test.sh (it installs the Debian package) or `apt-get install {package}`.");
    }
}
