using System.Diagnostics;

namespace Tally.Testing.Engines;

/// <summary><c>nats-server -js</c> on a loopback port, its JetStream store in the temp folder (file storage, kept across restarts).</summary>
public sealed class NatsServer() : LocalServer("nats")
{
    public string Url => $"nats://127.0.0.1:{Port}";

    protected override string ReadyLine => "Server is ready";

    protected override ProcessStartInfo Command()
    {
        var start = new ProcessStartInfo(ServerBinaries.NatsServer);
        foreach (var arg in new[] { "-js", "-a", "127.0.0.1", "-p", Port.ToString(), "-sd", Path.Combine(Folder, "jetstream"), "--server_name", "tally-test" })
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
