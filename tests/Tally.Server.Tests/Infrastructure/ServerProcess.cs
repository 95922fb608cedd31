using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>
/// The server as its own process (<c>dotnet Tally.Server.dll</c>) on a free loopback port, so a test can
/// kill it with SIGKILL or stop it with SIGTERM like an operator would.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(string dataPath, IReadOnlyDictionary<string, string> settings, Placement? placement)
    {
        var serverDll = Path.Combine(AppContext.BaseDirectory, "Tally.Server.dll");
        var start = new ProcessStartInfo(placement?.Namespace is null ? "dotnet" : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (placement?.Namespace is { } ns)
        {
            // ip netns exec execs dotnet (no fork): the process held here is the server, so signals reach it.
            foreach (var arg in new[] { "netns", "exec", ns, "dotnet" })
            {
                start.ArgumentList.Add(arg);
            }
        }

        var host = placement?.Host ?? "127.0.0.1";
        var port = placement?.Namespace is null ? 0 : 8080; // a namespace of its own has every port free
        start.ArgumentList.Add(serverDll);
        start.ArgumentList.Add($"--urls=http://{host}:{port}");
        start.ArgumentList.Add($"--TALLY_GRPC_URLS=http://{host}:{(port == 0 ? 0 : 8081)}"); // not the default 8081 on loopback: servers run side by side
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["TALLY_DATA"] = dataPath;
        start.Environment["TALLY_ADMIN_KEY"] = TestServer.AdminKey;
        start.Environment["Tally__Compatibility__ClientVoterIds"] = "true"; // the tests written before voter identities vote with voterIds (a setting overrides)
        foreach (var (key, value) in TestServer.GenerousLimits)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value; // fault tests vote hard from loopback (a setting overrides)
        }

        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        foreach (var (key, value) in placement?.Environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _ = Task.Run(() =>
        {
            // Exited may come before the last lines are read: WaitForExit() also waits for the output's end, so the
            // message holds the server's last words (why it refused to start).
            _process.WaitForExit();
            _listening.TrySetException(new InvalidOperationException("The server exited before listening:\n" + Output));
        });
    }

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public int Id => _process.Id;

    public string Output => string.Join("\n", _output);

    /// <param name="placement">Where the process runs: a network namespace and address of the fault harness's, and variables
    /// for its environment (libfaketime's for a skewed clock); loopback on a free port by default.</param>
    /// <param name="listening">How long to wait for the server to listen (<see cref="TestServer.Timeout"/> by default; a cluster
    /// node waits for JetStream and PostgreSQL before it listens). Past it the process is killed and its output thrown.</param>
    public static async Task<ServerProcess> StartAsync(string dataPath, IReadOnlyDictionary<string, string>? settings = null, Placement? placement = null, TimeSpan? listening = null)
    {
        var server = new ServerProcess(dataPath, settings ?? new Dictionary<string, string>(), placement);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            server.BaseAddress = await server._listening.Task.WaitAsync(listening ?? TestServer.Timeout);
        }
        catch (TimeoutException)
        {
            await server.DisposeAsync();
            throw new InvalidOperationException($"The server was not listening within {(listening ?? TestServer.Timeout).TotalSeconds} s:\n{server.Output}");
        }

        server.Client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        server.Admin = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = server.BaseAddress, Timeout = TestServer.Timeout };
        server.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.AdminKey);
        return server;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TestServer.Timeout);
    }

    /// <summary>SIGSTOP: the server freezes with its sockets open (a long pause), until <see cref="Resume"/>.</summary>
    public void Pause() => Signal(19);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal(18);

    public bool HasExited => _process.HasExited;

    private void Signal(int signal)
    {
        if (!_process.HasExited && SendSignal(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({signal}) failed: " + Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>SIGTERM, as systemd or Kubernetes stop a service; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        if (SendSignal(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException("kill(SIGTERM) failed: " + Marshal.GetLastPInvokeError());
        }

        await _process.WaitForExitAsync().WaitAsync(TestServer.Timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        Admin?.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TestServer.Timeout);
        }

        _process.Dispose();
    }

    /// <summary>Runs <c>Tally.Server verify</c> against <paramref name="server"/> with the root key: its exit code and output (bounded by <see cref="TestServer.Timeout"/>).</summary>
    public static async Task<(int ExitCode, string Output)> VerifyAsync(Uri server)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "Tally.Server.dll"), "verify", "--url", server.ToString() })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["TALLY_ADMIN_KEY"] = TestServer.AdminKey;
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    /// <summary>Where a server process runs: <paramref name="Namespace"/> (none: the test's own) listening on <paramref name="Host"/>.</summary>
    public sealed record Placement(string? Namespace, string Host, IReadOnlyDictionary<string, string>? Environment = null);

    /// <summary>The host logs one such line per endpoint, the main URLs first (the gRPC ones follow).</summary>
    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
