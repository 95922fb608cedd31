using System.Diagnostics;

namespace Tally.Testing.Engines;

/// <summary>
/// <c>nats-server -js</c> on a port of its own, its JetStream store in the temp folder (file storage, kept across
/// restarts). With <see cref="Routes"/> it is one server of a NATS cluster (JetStream replicated across the servers).
/// </summary>
public sealed class NatsServer(string serverName = "tally-test") : LocalServer("nats")
{
    public const int ClusterPort = 6222;

    public string Url => $"nats://{Host}:{Port}";

    /// <summary>The cluster's other servers as <c>nats://host:6222</c> routes; none for a server on its own.</summary>
    public IReadOnlyList<string> Routes { get; init; } = [];

    /// <summary>Where JetStream keeps its files (a small tmpfs in the disk-full fault).</summary>
    public string StoreFolder { get; init; } = "";

    protected override string ReadyLine => "Server is ready";

    protected override ProcessStartInfo Command()
    {
        var start = new ProcessStartInfo(ServerBinaries.NatsServer);
        var store = StoreFolder.Length > 0 ? StoreFolder : Path.Combine(Folder, "jetstream");
        string[] args = ["-js", "-a", Host, "-p", Port.ToString(), "-sd", store, "--server_name", serverName];
        if (Routes.Count > 0)
        {
            args = [.. args, "--cluster_name", "tally", "--cluster", $"nats://{Host}:{ClusterPort}", "--routes", string.Join(',', Routes)];
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
