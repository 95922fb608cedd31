using System.Diagnostics;

namespace Tally.Testing.Engines;

/// <summary><c>redis-server</c> on a loopback port with persistence off: every start is an empty Redis.</summary>
public sealed class RedisServer() : LocalServer("redis")
{
    public string Configuration => $"{Host}:{Port}";

    protected override string ReadyLine => "Ready to accept connections";

    protected override ProcessStartInfo Command()
    {
        var start = new ProcessStartInfo(ServerBinaries.RedisServer);
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", Host, "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", Folder, "--daemonize", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
