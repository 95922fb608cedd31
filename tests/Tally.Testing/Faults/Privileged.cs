using System.Diagnostics;

namespace Tally.Testing.Faults;

/// <summary>
/// Runs the system commands the fault tests need (mount, ip, nft) as root: directly when this process is root (CI),
/// otherwise through <c>sudo -n</c>, as <c>./test.sh</c> installs packages. Throws with the command's error output.
/// </summary>
public static class Privileged
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>True when this process's real user is root (the first id of /proc/self/status's Uid line).</summary>
    public static bool IsRoot { get; } = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Uid:", StringComparison.Ordinal)) is { } uid
        && uid.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) == "0";

    /// <summary>Runs <paramref name="command"/> to its end, <paramref name="input"/> on its standard input; its standard output.</summary>
    public static string Run(string command, IReadOnlyList<string> args, string? input = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        var start = new ProcessStartInfo(IsRoot ? command : "sudo") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = input is not null, UseShellExecute = false };
        if (!IsRoot)
        {
            start.ArgumentList.Add("-n");
            start.ArgumentList.Add(command);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
        }

        if (!process.HasExited || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed ({(process.HasExited ? process.ExitCode : -1)}): {error.Result}. The fault tests need root, or sudo without a password.");
        }

        return output.Result;
    }

    public static string Run(string command, params string[] args) => Run(command, (IReadOnlyList<string>)args);
}
