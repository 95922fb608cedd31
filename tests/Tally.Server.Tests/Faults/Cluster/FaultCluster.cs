using System.Net.Http.Headers;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;
using Tally.Testing.Engines;
using Tally.Testing.Faults;

namespace Tally.Server.Tests.Faults.Cluster;

/// <summary>
/// A whole cluster, every process in a network namespace of its own on a <see cref="FaultNetwork"/>: three nats-servers
/// forming one NATS cluster (JetStream replicas 3, the default Tally requires), PostgreSQL (ledger, access, snapshots),
/// Redis (read model) and three Tally server processes. Any process can be killed (SIGKILL) and restarted on its data,
/// paused (SIGSTOP) and resumed, cut off from any other, or restarted with its clock skewed (libfaketime, the Debian
/// package's preload library, wall clock only: the monotonic clock stays true, as NTP steps leave it).
/// </summary>
internal sealed class FaultCluster : IAsyncDisposable
{
    public const int TallyNodes = 3;
    public const int NatsServers = 3;
    private const string FakeTime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

    private readonly string _folder = Directory.CreateTempSubdirectory("tally-fault-cluster-").FullName;

    private FaultCluster(FaultNetwork network) => Network = network;

    public FaultNetwork Network { get; }

    public List<(NatsServer Server, NetworkHost Host)> Nats { get; } = [];

    public (PostgresServer Server, NetworkHost Host) Postgres { get; private set; }

    public (RedisServer Server, NetworkHost Host) Redis { get; private set; }

    public List<TallyNode> Nodes { get; } = [];

    public string NatsUrls => string.Join(',', Nats.Select(n => n.Server.Url));

    public static async Task<FaultCluster> StartAsync()
    {
        var cluster = new FaultCluster(FaultNetwork.Create());
        try
        {
            await cluster.StartAllAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task StartAllAsync()
    {
        var natsHosts = Enumerable.Range(1, NatsServers).Select(i => Network.AddHost("nats" + i)).ToArray();
        foreach (var host in natsHosts)
        {
            Nats.Add((new NatsServer(host.Name)
            {
                Host = host.Address,
                NetworkNamespace = host.Namespace,
                FixedPort = 4222,
                Routes = [.. natsHosts.Where(h => h != host).Select(h => $"nats://{h.Address}:{NatsServer.ClusterPort}")],
            }, host));
        }

        var pg = Network.AddHost("postgres");
        Postgres = (new PostgresServer { Host = pg.Address, NetworkNamespace = pg.Namespace, FixedPort = 5432 }, pg);
        var redis = Network.AddHost("redis");
        Redis = (new RedisServer { Host = redis.Address, NetworkNamespace = redis.Namespace, FixedPort = 6379 }, redis);
        await Task.WhenAll([.. Nats.Select(n => n.Server.StartAsync()), Postgres.Server.StartAsync(), Redis.Server.StartAsync()]);
        await JetStreamReadyAsync();

        for (var i = 1; i <= TallyNodes; i++)
        {
            Nodes.Add(new TallyNode(this, "node" + i, Network.AddHost("node" + i), Path.Combine(_folder, "node" + i)));
        }

        await Task.WhenAll(Nodes.Select(n => n.StartAsync()));
        await Task.WhenAll(Nodes.Select(n => n.ReadyAsync()));
    }

    /// <summary>Waits until the NATS cluster has a JetStream meta leader (the servers say "ready" before they elect one).</summary>
    public async Task JetStreamReadyAsync()
    {
        await using var nats = new NatsConnection(new NatsOpts { Url = NatsUrls, Name = "fault-harness" });
        var js = new NatsJSContext(nats);
        await Eventually.WaitUntilAsync(async () =>
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await js.GetAccountInfoAsync(timeout.Token);
                return true;
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(200));
    }

    /// <summary>Writes every process's output (each Tally node's starts, each engine's last lines) under <paramref name="folder"/>, for a failed run.</summary>
    public void WriteLogs(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var node in Nodes)
        {
            File.WriteAllLines(Path.Combine(folder, node.Name + ".log"), node.AllOutput());
        }

        foreach (var (server, host) in Nats)
        {
            File.WriteAllText(Path.Combine(folder, host.Name + ".log"), server.Output);
        }

        File.WriteAllText(Path.Combine(folder, "postgres.log"), Postgres.Server.Output);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        foreach (var (server, _) in Nats)
        {
            await server.DisposeAsync();
        }

        if (Postgres.Server is not null)
        {
            await Postgres.Server.DisposeAsync();
        }

        if (Redis.Server is not null)
        {
            await Redis.Server.DisposeAsync();
        }

        Network.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>One Tally server process of the cluster, restartable on its data folder, with its own HTTP clients.</summary>
    internal sealed class TallyNode(FaultCluster cluster, string name, NetworkHost host, string data) : IAsyncDisposable
    {
        private ServerProcess? _process;

        public string Name => name;

        public NetworkHost Host => host;

        public Uri BaseAddress { get; } = new($"http://{host.Address}:8080");

        /// <summary>The wall-clock skew the process runs with (zero: none).</summary>
        public TimeSpan Skew { get; private set; }

        public bool IsRunning => _process is { HasExited: false };

        public bool IsPaused { get; private set; }

        /// <summary>What the process printed, all starts together, for a failure's message.</summary>
        public List<string> Output { get; } = [];

        /// <summary>A client as a voter's app would use: anonymous, short timeouts (an unanswered request is an unknown outcome).</summary>
        public HttpClient NewClient(bool admin, TimeSpan timeout)
        {
            var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), UseCookies = false, PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
            {
                BaseAddress = BaseAddress,
                Timeout = timeout,
            };
            if (admin)
            {
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.AdminKey);
            }

            return client;
        }

        /// <summary>The node's latest (re)start, run in the background: a node waits for JetStream and PostgreSQL before it
        /// listens, and the nemesis must not wait with it (it may be the one to bring PostgreSQL back).</summary>
        public Task Starting { get; private set; } = Task.CompletedTask;

        /// <summary>Starts the node in the background, once any start before has ended.</summary>
        public void Launch(TimeSpan skew = default) => Starting = AfterAsync(Starting, kill: false, skew);

        /// <summary>Kills the node and starts it again in the background, once any start before has ended.</summary>
        public void Relaunch(TimeSpan skew = default) => Starting = AfterAsync(Starting, kill: true, skew);

        private async Task AfterAsync(Task previous, bool kill, TimeSpan skew)
        {
            try
            {
                await previous;
            }
            catch (InvalidOperationException)
            {
                // that start failed (its output is kept); this one tries again
            }

            if (kill)
            {
                await KillAsync();
            }

            await StartAsync(skew);
        }

        public async Task StartAsync(TimeSpan skew = default)
        {
            Skew = skew;
            var environment = new Dictionary<string, string>();
            if (skew != TimeSpan.Zero)
            {
                environment["LD_PRELOAD"] = FakeTime;
                environment["FAKETIME"] = (skew > TimeSpan.Zero ? "+" : "-") + (long)Math.Abs(skew.TotalSeconds) + "s";
                environment["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
            }

            var settings = new Dictionary<string, string>
            {
                ["Tally:Mode"] = "cluster",
                ["Tally:Nats:Url"] = cluster.NatsUrls,
                ["Tally:Postgres:ConnectionString"] = cluster.Postgres.Server.ConnectionString,
                ["Tally:Redis:Configuration"] = cluster.Redis.Server.Configuration + ",connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000",
                ["Tally:Cluster:Namespace"] = "faults",
                ["Tally:Cluster:Replicas"] = "3",
                ["Tally:Cluster:NodeId"] = name,
                ["Tally:Cluster:Partitions"] = "8",
                ["Tally:Cluster:LeaseTtl"] = "00:00:03",
                ["Tally:Cluster:ForwardTimeout"] = "00:00:05",
                ["Tally:Live:SseHeartbeat"] = "00:00:01",
            };
            _process = await ServerProcess.StartAsync(data, settings, new ServerProcess.Placement(host.Namespace, host.Address, environment), TimeSpan.FromSeconds(150));
            IsPaused = false;
        }

        /// <summary>Until <c>/readyz</c> answers 200 (bounded).</summary>
        public async Task ReadyAsync()
        {
            using var client = NewClient(admin: false, TimeSpan.FromSeconds(5));
            await Eventually.WaitUntilAsync(async () =>
            {
                try
                {
                    using var response = await client.GetAsync(new Uri("/readyz", UriKind.Relative));
                    return response.IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(200));
        }

        public async Task KillAsync()
        {
            if (_process is { } process)
            {
                if (IsPaused)
                {
                    process.Resume(); // a stopped process dies of SIGKILL too, but its exit is reaped only once it runs
                }

                await process.KillAsync();
                Keep(process);
                IsPaused = false;
            }
        }

        public void Pause()
        {
            _process?.Pause();
            IsPaused = true;
        }

        public void Resume()
        {
            _process?.Resume();
            IsPaused = false;
        }

        /// <summary>Every earlier start's output, then the running process's.</summary>
        public List<string> AllOutput()
        {
            lock (Output)
            {
                return [.. Output, $"--- {name} (running) ---", .. (_process?.Output ?? "").Split('\n')];
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_process is { } process)
            {
                if (IsPaused)
                {
                    process.Resume();
                }

                Keep(process);
                await process.DisposeAsync();
            }
        }

        private void Keep(ServerProcess process)
        {
            lock (Output)
            {
                Output.Add($"--- {name} (pid {process.Id}) ---");
                Output.AddRange(process.Output.Split('\n'));
            }
        }
    }
}
