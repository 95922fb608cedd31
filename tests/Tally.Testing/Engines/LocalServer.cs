using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Tally.Testing.Engines;

/// <summary>
/// One engine (nats-server, redis-server, postgres) run by the test as a child process on a loopback port
/// under a temp folder, so a fault test can kill it (SIGKILL), stop it, and start it again on the same port
/// and data. Readiness is the line the engine logs when it accepts connections, never a sleep.
/// </summary>
public abstract partial class LocalServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;
    private bool _prepared;

    protected LocalServer(string name)
    {
        Name = name;
        Folder = Directory.CreateTempSubdirectory($"tally-{name}-").FullName;
    }

    public string Name { get; }

    /// <summary>The temp folder the engine keeps its data in (deleted on dispose).</summary>
    public string Folder { get; }

    public int Port { get; private set; }

    /// <summary>The address the engine listens on: loopback unless the test gave it a network namespace of its own.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>A network namespace (<c>ip netns</c>) the engine runs in, or none: the fault harness gives each process its own.</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>A fixed port instead of a free loopback one (inside a namespace of its own every port is free).</summary>
    public int FixedPort { init => Port = value; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the engine printed, for failure messages.</summary>
    public string Output => string.Join("\n", _output.TakeLast(200));

    /// <summary>Starts the engine on a free port (the first time) or on its port again (after a stop).</summary>
    public async Task StartAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} is running already.");
        }

        for (var attempt = 1; ; attempt++)
        {
            var fresh = Port == 0;
            if (fresh)
            {
                Port = FreePort.Next();
            }

            if (!_prepared)
            {
                // Once: a retry on another port must not set the data folder up again (initdb refuses a folder it
                // filled on the first try, which turned one lost port race into a failed fixture).
                await PrepareAsync();
                _prepared = true;
            }

            try
            {
                await LaunchAsync();
                return;
            }
            catch (InvalidOperationException) when (fresh && attempt < 3)
            {
                Port = 0; // another process took the port between the probe and the bind: try another
            }
        }
    }

    /// <summary>SIGKILL: the engine gets no chance to flush or say goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(Timeout);
        }
    }

    /// <summary>SIGSTOP: the engine freezes with its sockets open (a long GC pause, a stalled VM) until <see cref="Resume"/>.</summary>
    public void Pause() => Signal(19);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal(18);

    /// <summary>A clean stop (the engine's own signal for it), waiting for the process to end.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            Signal(StopSignal);
            await process.WaitForExitAsync().WaitAsync(Timeout);
        }
    }

    private void Signal(int signal)
    {
        if (_process is { HasExited: false } process && SendSignal(process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({signal}) of {Name} failed: {Marshal.GetLastPInvokeError()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>SIGTERM unless the engine wants another (postgres: SIGINT, its fast shutdown).</summary>
    protected virtual int StopSignal => 15;

    /// <summary>The line that says the engine accepts connections.</summary>
    protected abstract string ReadyLine { get; }

    /// <summary>One-time set-up of the data folder before the first start (postgres: initdb).</summary>
    protected virtual Task PrepareAsync() => Task.CompletedTask;

    /// <summary>The command line for a start on <see cref="Port"/>.</summary>
    protected abstract ProcessStartInfo Command();

    /// <summary>Runs a set-up command to its end; throws with its output when it fails.</summary>
    protected static async Task RunAsync(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Timeout);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{start.FileName} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }

    private async Task LaunchAsync()
    {
        var start = Command();
        if (NetworkNamespace is not null)
        {
            // ip netns exec execs the command (no fork), so the process the test holds is the engine itself.
            var inner = start;
            start = new ProcessStartInfo("ip") { WorkingDirectory = inner.WorkingDirectory };
            foreach (var arg in (string[])["netns", "exec", NetworkNamespace, inner.FileName, .. inner.ArgumentList])
            {
                start.ArgumentList.Add(arg);
            }
        }

        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            _output.Enqueue(line);
            if (line.Contains(ReadyLine, StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"{Name} exited before it was ready:\n{Output}"));
        _process?.Dispose();
        _process = process;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            await KillAsync();
            throw new InvalidOperationException($"{Name} was not ready within {Timeout.TotalSeconds} s:\n{Output}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
