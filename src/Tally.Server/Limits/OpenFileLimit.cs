using System.Globalization;

namespace Tally.Server.Limits;

/// <summary>
/// The process's open-file limit (<c>RLIMIT_NOFILE</c>, soft), and the connection cap that keeps the server clear of it.
/// Every TCP connection holds a file descriptor; a process that runs out of them cannot open its database files or
/// accept anything (a server that reached it here ended with the runtime's "Out of memory." and SIGABRT). So the
/// server accepts at most the limit less a reserve for its own files.
/// </summary>
internal static class OpenFileLimit
{
    private const string LimitsFile = "/proc/self/limits";

    /// <summary>The soft open-file limit of this process; null where it cannot be read (not Linux) or is unlimited.</summary>
    public static long? Current()
    {
        try
        {
            return File.Exists(LimitsFile) ? Parse(File.ReadAllText(LimitsFile)) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The soft limit from the text of <c>/proc/self/limits</c> ("Max open files  20000  20000  files").</summary>
    internal static long? Parse(string limits)
    {
        foreach (var line in limits.Split('\n'))
        {
            if (!line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) && soft > 0 ? soft : null;
        }

        return null;
    }

    /// <summary>Descriptors kept for everything but connections: a tenth of the limit, at least 256 and at most 2,048.</summary>
    public static long Reserve(long limit) => Math.Clamp(limit / 10, 256, 2048);

    /// <summary>The most connections to accept under <paramref name="limit"/> (at least 1).</summary>
    public static long ConnectionCap(long limit) => Math.Max(1, limit - Reserve(limit));
}
