using Tally.Testing.Faults;

namespace Tally.Server.Tests.Faults.Cluster;

/// <summary>
/// Injects a seeded random schedule of faults into a <see cref="FaultCluster"/>: every one to three seconds it either
/// starts a fault (at most two at once, each on a target no other fault holds) or ends one. The choices come from the
/// seed alone, so a seed names its schedule; when they happen depends on the machine, which is why the checker judges
/// the history, not the timing. At the end every fault is undone and every process is running and ready.
/// </summary>
internal sealed class Nemesis(FaultCluster cluster, int seed)
{
    private readonly Random _random = new(seed);
    private readonly List<ActiveFault> _active = [];
    private readonly DateTime _start = DateTime.UtcNow;

    /// <summary>What was done, when (seconds from the start): the run's report lists it.</summary>
    public List<string> Log { get; } = [];

    /// <summary>How many faults of each kind were started.</summary>
    public Dictionary<string, int> Injected { get; } = [];

    public async Task RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        var end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1000 + _random.Next(2000)), cancellationToken);
            if (_active.Count < 2 && (_active.Count == 0 || _random.Next(3) > 0))
            {
                await StartOneAsync();
            }
            else
            {
                var fault = _active[_random.Next(_active.Count)];
                await EndAsync(fault);
            }
        }

        await HealAsync();
    }

    /// <summary>Ends every fault, then brings anything not running back, and waits until the cluster is ready.</summary>
    public async Task HealAsync()
    {
        foreach (var fault in _active.ToArray())
        {
            await EndAsync(fault);
        }

        cluster.Network.HealAll();
        foreach (var (server, _) in cluster.Nats.Where(n => !n.Server.IsRunning))
        {
            await server.StartAsync();
        }

        await cluster.JetStreamReadyAsync();
        foreach (var node in cluster.Nodes)
        {
            try
            {
                await node.Starting;
            }
            catch (InvalidOperationException)
            {
                // it exited before it listened (its output is kept): started again below
            }

            if (!node.IsRunning)
            {
                await node.StartAsync();
            }
        }

        await Task.WhenAll(cluster.Nodes.Select(n => n.ReadyAsync()));
        Note("healed: every process running, no partition, every node ready");
    }

    private async Task StartOneAsync()
    {
        var busy = _active.SelectMany(f => f.Targets).ToHashSet();
        var nodes = cluster.Nodes.Where(n => !busy.Contains(n.Host) && n.IsRunning && n.Starting.IsCompleted).ToArray();
        var nats = cluster.Nats.Where(n => !busy.Contains(n.Host)).ToArray();
        var kind = _random.Next(10);
        ActiveFault? fault = null;
        switch (kind)
        {
            case 0 when nodes.Length > 0:
            {
                var node = Pick(nodes);
                await node.KillAsync();
                fault = new("kill-node", $"SIGKILL {node.Name}", [node.Host], () => Done(() => node.Launch()), $"restart {node.Name}");
                break;
            }

            case 1 when nodes.Length > 0:
            {
                var node = Pick(nodes);
                node.Pause();
                fault = new("pause-node", $"SIGSTOP {node.Name}", [node.Host], () => Done(node.Resume), $"SIGCONT {node.Name}");
                break;
            }

            case 2 when nodes.Length > 0:
            {
                var node = Pick(nodes);
                cluster.Network.Isolate(node.Host);
                fault = new("isolate-node", $"isolate {node.Name} (link down)", [node.Host], () => Done(() => cluster.Network.Rejoin(node.Host)), $"rejoin {node.Name}");
                break;
            }

            case 3 when nodes.Length > 0 && nats.Length > 0:
            {
                var node = Pick(nodes);
                var server = Pick(nats);
                cluster.Network.Partition(node.Host, server.Host);
                fault = new("partition-node-nats", $"partition {node.Name} | {server.Host.Name}", [node.Host, server.Host], () => Done(() => cluster.Network.Heal(node.Host, server.Host)), $"heal {node.Name} | {server.Host.Name}");
                break;
            }

            case 4 when nats.Length > 0:
            {
                var (server, host) = Pick(nats);
                await server.KillAsync();
                fault = new("kill-nats", $"SIGKILL {host.Name}", [host], server.StartAsync, $"restart {host.Name}");
                break;
            }

            case 5 when nats.Length > 0:
            {
                var (server, host) = Pick(nats);
                server.Pause();
                fault = new("pause-nats", $"SIGSTOP {host.Name}", [host], () => Done(server.Resume), $"SIGCONT {host.Name}");
                break;
            }

            case 6 when nats.Length > 1:
            {
                var a = Pick(nats);
                var b = Pick(nats.Where(n => n.Host != a.Host).ToArray());
                cluster.Network.Partition(a.Host, b.Host);
                fault = new("partition-nats", $"partition {a.Host.Name} | {b.Host.Name}", [a.Host, b.Host], () => Done(() => cluster.Network.Heal(a.Host, b.Host)), $"heal {a.Host.Name} | {b.Host.Name}");
                break;
            }

            case 7 when !busy.Contains(cluster.Postgres.Host):
            {
                var (server, host) = cluster.Postgres;
                await server.KillAsync();
                fault = new("kill-postgres", "SIGKILL postgres", [host], server.StartAsync, "restart postgres");
                break;
            }

            case 8 when !busy.Contains(cluster.Redis.Host):
            {
                var (server, host) = cluster.Redis;
                server.Pause();
                fault = new("pause-redis", "SIGSTOP redis", [host], () => Done(server.Resume), "SIGCONT redis");
                break;
            }

            case 9 when nodes.Length > 0:
            {
                var node = Pick(nodes);
                var skew = TimeSpan.FromSeconds((_random.Next(2) == 0 ? -1 : 1) * (30 + _random.Next(600)));
                node.Relaunch(skew);
                fault = new("skew-node", $"restart {node.Name} with its clock {skew.TotalSeconds:+0;-0} s off", [node.Host], () => Done(() => node.Relaunch()), $"restart {node.Name} with a true clock");
                break;
            }
        }

        if (fault is not null)
        {
            _active.Add(fault);
            Injected[fault.Kind] = Injected.GetValueOrDefault(fault.Kind) + 1;
            Note(fault.Description);
        }
    }

    private async Task EndAsync(ActiveFault fault)
    {
        _active.Remove(fault);
        await fault.Undo();
        Note(fault.UndoDescription);
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private void Note(string what) => Log.Add($"{(DateTime.UtcNow - _start).TotalSeconds,6:0.0} s  {what}");

    private static Task Done(Action action)
    {
        action();
        return Task.CompletedTask;
    }

    private sealed record ActiveFault(string Kind, string Description, NetworkHost[] Targets, Func<Task> Undo, string UndoDescription);
}
