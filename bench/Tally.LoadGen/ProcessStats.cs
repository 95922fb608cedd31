using System.Globalization;
using System.Runtime.InteropServices;

namespace Tally.LoadGen;

/// <summary>A server process's CPU time and memory, read from <c>/proc</c> (Linux).</summary>
internal static partial class ProcessStats
{
    private const int ScClkTck = 2; // _SC_CLK_TCK in glibc's unistd.h

    private static readonly Lazy<long> s_ticksPerSecond = new(() =>
    {
        var ticks = SysConf(ScClkTck);
        return ticks > 0 ? ticks : 100;
    });

    /// <summary>utime + stime of <paramref name="pid"/>, in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(rest[11], CultureInfo.InvariantCulture); // field 14
        var stime = long.Parse(rest[12], CultureInfo.InvariantCulture); // field 15
        return (utime + stime) / (double)s_ticksPerSecond.Value;
    }

    /// <summary>
    /// utime + stime of every process in the trees rooted at <paramref name="roots"/> (each root and all its
    /// descendants), plus the CPU of children they have reaped (cutime + cstime), in seconds: the CPU of a group of
    /// servers whose workers come and go (nginx workers, PostgreSQL backends). A process that ends between two reads
    /// moves from its own line to its parent's reaped-children time, so differences stay right.
    /// </summary>
    public static double TreeCpuSeconds(IReadOnlyCollection<int> roots)
    {
        var all = new List<(int Pid, int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                continue; // ended while we listed
            }

            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long Field(int i) => long.Parse(rest[i], CultureInfo.InvariantCulture);
            all.Add((pid, (int)Field(1), Field(11) + Field(12) + Field(13) + Field(14))); // ppid; utime, stime, cutime, cstime
        }

        var inTree = new HashSet<int>(roots);
        var children = all.ToLookup(p => p.Parent);
        var pending = new Stack<int>(roots);
        while (pending.Count > 0)
        {
            foreach (var child in children[pending.Pop()])
            {
                if (inTree.Add(child.Pid))
                {
                    pending.Push(child.Pid);
                }
            }
        }

        return all.Where(p => inTree.Contains(p.Pid)).Sum(p => p.Ticks) / (double)s_ticksPerSecond.Value;
    }

    /// <summary>How a run reads "the server's" CPU seconds: the trees of <paramref name="cpuPids"/> when given, else <paramref name="serverPid"/> alone, else nothing.</summary>
    public static Func<double>? ServerCpuReader(int? serverPid, IReadOnlyList<int>? cpuPids) =>
        cpuPids is { Count: > 0 } pids ? () => TreeCpuSeconds(pids)
        : serverPid is { } pid ? () => CpuSeconds(pid)
        : null;

    /// <summary>The whole machine's busy CPU seconds (all cores; user, nice, system, irq, softirq, steal) and its iowait seconds.</summary>
    public static (double Busy, double IoWait) MachineCpuSeconds()
    {
        // First line of /proc/stat: "cpu  user nice system idle iowait irq softirq steal guest guest_nice".
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
        var busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
        return (busy / (double)s_ticksPerSecond.Value, Field(5) / (double)s_ticksPerSecond.Value);
    }

    /// <summary>
    /// The machine's cores (the <c>cpuN</c> lines of /proc/stat), not <see cref="Environment.ProcessorCount"/>, which counts
    /// only the cores this process may run on (one, when the scripts pin the load generator).
    /// </summary>
    public static int MachineCores() =>
        Math.Max(1, File.ReadLines("/proc/stat").Count(l => l.Length > 3 && l.StartsWith("cpu", StringComparison.Ordinal) && char.IsAsciiDigit(l[3])));

    /// <summary>The peak resident set size (VmHWM) of <paramref name="pid"/>, in MiB.</summary>
    public static double PeakRssMiB(int pid) => StatusKiB(pid, "VmHWM:") / 1024.0;

    /// <summary>The resident set size now (VmRSS) of <paramref name="pid"/>, in MiB.</summary>
    public static double RssMiB(int pid) => StatusKiB(pid, "VmRSS:") / 1024.0;

    /// <summary>
    /// The resident set size once it stopped moving: sampled every 250 ms until two samples in a row are within
    /// 0.25 MiB of each other, for at most <paramref name="maxWait"/> (then the last sample). There is no signal for
    /// "the server's memory settled", so this polls with a deadline.
    /// </summary>
    public static async Task<double> SettledRssMiBAsync(int pid, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + MeasuredWindow.Ticks(maxWait);
        var previous = RssMiB(pid);
        while (System.Diagnostics.Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(250, cancellationToken);
            var now = RssMiB(pid);
            if (Math.Abs(now - previous) < 0.25)
            {
                return now;
            }

            previous = now;
        }

        return previous;
    }

    private static long StatusKiB(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidDataException($"/proc/{pid}/status has no {field} line.");
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);
}
