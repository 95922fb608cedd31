using System.Globalization;
using System.Runtime.InteropServices;

namespace Tally.LoadGen;

/// <summary>A server process's CPU time and peak memory, read from <c>/proc</c> (Linux).</summary>
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

    /// <summary>The whole machine's busy CPU seconds (all cores; user, nice, system, irq, softirq, steal) and its iowait seconds.</summary>
    public static (double Busy, double IoWait) MachineCpuSeconds()
    {
        // First line of /proc/stat: "cpu  user nice system idle iowait irq softirq steal guest guest_nice".
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
        var busy = Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8);
        return (busy / (double)s_ticksPerSecond.Value, Field(5) / (double)s_ticksPerSecond.Value);
    }

    /// <summary>The peak resident set size (VmHWM) of <paramref name="pid"/>, in MiB.</summary>
    public static double PeakRssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kib / 1024.0;
            }
        }

        throw new InvalidDataException($"/proc/{pid}/status has no VmHWM line.");
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);
}
