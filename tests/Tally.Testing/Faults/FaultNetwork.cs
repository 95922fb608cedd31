using System.Security.Cryptography;
using System.Text;

namespace Tally.Testing.Faults;

/// <summary>
/// A network the test makes for itself (Linux network namespaces, <c>ip</c> and <c>nft</c> from Debian's iproute2 and
/// nftables): a hub namespace holding a bridge, one namespace per process, each joined to the bridge by a veth pair and
/// given an address of a /24 nothing on the machine uses, and a veth from the test's own namespace to the hub, so the
/// test's clients reach every process. Faults: <see cref="Partition"/> drops every packet between two hosts (nftables in
/// both hosts' namespaces: established connections hang as on a real partition, no reset), <see cref="Isolate"/> takes a
/// host's link down. Everything made is deleted on dispose (the namespaces take their links with them).
/// </summary>
public sealed class FaultNetwork : IDisposable
{
    private readonly string _id;
    private readonly List<NetworkHost> _hosts = [];
    private readonly Dictionary<NetworkHost, HashSet<NetworkHost>> _blocked = []; // under _gate
    private readonly Lock _gate = new();

    private FaultNetwork(string id, string prefix)
    {
        _id = id;
        Prefix = prefix;
    }

    /// <summary>The first three octets of the network's /24.</summary>
    public string Prefix { get; }

    /// <summary>The test's own address on the network (its clients connect from here).</summary>
    public string ClientAddress => Prefix + ".1";

    private string Hub => $"tally-{_id}-hub";

    private string RootLink => $"tf{_id}r";

    /// <summary>Makes the hub and the test's link to it, on a 10.213.x.0/24 no route of this machine covers.</summary>
    public static FaultNetwork Create()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2));
        var routes = Privileged.Run("ip", "-4", "route", "show", "table", "all") + Privileged.Run("ip", "-4", "-o", "addr");
        var free = Enumerable.Range(0, 256).OrderBy(_ => RandomNumberGenerator.GetInt32(1000)).Select(n => $"10.213.{n}").First(p => !routes.Contains(p + ".", StringComparison.Ordinal));
        var network = new FaultNetwork(id, free);
        try
        {
            network.Setup();
        }
        catch
        {
            network.Dispose();
            throw;
        }

        return network;
    }

    private void Setup()
    {
        Ip("netns", "add", Hub);
        Ip("-n", Hub, "link", "set", "lo", "up");
        Ip("-n", Hub, "link", "add", "br0", "type", "bridge");
        Ip("-n", Hub, "link", "set", "br0", "up");
        Ip("link", "add", RootLink, "type", "veth", "peer", "name", RootLink + "h");
        Ip("link", "set", RootLink + "h", "netns", Hub);
        Ip("-n", Hub, "link", "set", RootLink + "h", "master", "br0", "up");
        Ip("addr", "add", ClientAddress + "/24", "dev", RootLink);
        Ip("link", "set", RootLink, "up");
    }

    /// <summary>A namespace of its own for <paramref name="name"/>, on the bridge, with the next address.</summary>
    public NetworkHost AddHost(string name)
    {
        lock (_gate)
        {
            var n = _hosts.Count + 2;
            var host = new NetworkHost(name, $"tally-{_id}-{name}", $"{Prefix}.{n}", $"tf{_id}{n}");
            Ip("netns", "add", host.Namespace);
            _hosts.Add(host);
            Ip("-n", host.Namespace, "link", "set", "lo", "up");
            Ip("link", "add", host.Link, "type", "veth", "peer", "name", host.HubLink);
            Ip("link", "set", host.Link, "netns", host.Namespace);
            Ip("link", "set", host.HubLink, "netns", Hub);
            Ip("-n", Hub, "link", "set", host.HubLink, "master", "br0", "up");
            Ip("-n", host.Namespace, "addr", "add", host.Address + "/24", "dev", host.Link);
            Ip("-n", host.Namespace, "link", "set", host.Link, "up");
            _blocked[host] = [];
            Filter(host);
            return host;
        }
    }

    /// <summary>Drops every packet between <paramref name="a"/> and <paramref name="b"/>, both ways, until healed.</summary>
    public void Partition(NetworkHost a, NetworkHost b) => Block(a, b, blocked: true);

    /// <summary>Lets <paramref name="a"/> and <paramref name="b"/> talk again.</summary>
    public void Heal(NetworkHost a, NetworkHost b) => Block(a, b, blocked: false);

    /// <summary>Takes the host's link down: it reaches nothing, and nothing (the test's clients neither) reaches it.</summary>
    public void Isolate(NetworkHost host) => Ip("-n", Hub, "link", "set", Host(host).HubLink, "down");

    /// <summary>Brings an isolated host's link up again.</summary>
    public void Rejoin(NetworkHost host) => Ip("-n", Hub, "link", "set", Host(host).HubLink, "up");

    /// <summary>Heals every partition and rejoins every host.</summary>
    public void HealAll()
    {
        lock (_gate)
        {
            foreach (var host in _hosts)
            {
                _blocked[host].Clear();
                Filter(host);
                Rejoin(host);
            }
        }
    }

    public void Dispose()
    {
        foreach (var ns in _hosts.Select(h => h.Namespace).Append(Hub))
        {
            TryRun("ip", "netns", "del", ns);
        }

        TryRun("ip", "link", "del", RootLink); // gone with the hub already, unless the hub was never made
    }

    private void Block(NetworkHost a, NetworkHost b, bool blocked)
    {
        lock (_gate)
        {
            foreach (var (from, to) in new[] { (Host(a), Host(b)), (Host(b), Host(a)) })
            {
                if (blocked)
                {
                    _blocked[from].Add(to);
                }
                else
                {
                    _blocked[from].Remove(to);
                }

                Filter(from);
            }
        }
    }

    /// <summary>Writes the host's whole nftables table at once from its blocked peers (one atomic <c>nft -f</c>).</summary>
    private void Filter(NetworkHost host)
    {
        var peers = _blocked[host];
        var drops = peers.Count == 0 ? "" : "ip saddr { " + string.Join(", ", peers.Select(p => p.Address)) + " } drop";
        var sends = peers.Count == 0 ? "" : "ip daddr { " + string.Join(", ", peers.Select(p => p.Address)) + " } drop";
        var rules = new StringBuilder()
            .AppendLine("table inet tally_faults")
            .AppendLine("delete table inet tally_faults")
            .AppendLine("table inet tally_faults {")
            .AppendLine("  chain input {")
            .AppendLine("    type filter hook input priority 0; policy accept;")
            .AppendLine("    " + drops)
            .AppendLine("  }")
            .AppendLine("  chain output {")
            .AppendLine("    type filter hook output priority 0; policy accept;")
            .AppendLine("    " + sends)
            .AppendLine("  }")
            .AppendLine("}")
            .ToString();
        Privileged.Run("ip", ["netns", "exec", host.Namespace, "nft", "-f", "-"], rules);
    }

    private NetworkHost Host(NetworkHost host) => _hosts.Contains(host) ? host : throw new ArgumentException($"{host.Name} is not on this network.", nameof(host));

    private static void Ip(params string[] args) => Privileged.Run("ip", args);

    private static void TryRun(string command, params string[] args)
    {
        try
        {
            Privileged.Run(command, args);
        }
        catch (InvalidOperationException)
        {
        }
    }
}

/// <summary>One process's place on a <see cref="FaultNetwork"/>: its namespace, its address, its veth's two ends.</summary>
public sealed record NetworkHost(string Name, string Namespace, string Address, string Link)
{
    public string HubLink => Link + "h";
}
