using System.Globalization;

namespace Tally.LoadGen;

/// <summary>The command line of a <c>fanout</c> or <c>idle</c> run: watchers of live results, checked before anything connects.</summary>
internal sealed class WatchArgs
{
    /// <summary>The server's base address; only loopback addresses are accepted.</summary>
    public Uri Url { get; private init; } = null!;

    public string AdminKey { get; private init; } = null!;

    /// <summary><c>tally</c>, or a baseline: <c>ceiling</c>, <c>signalr</c>, <c>socketio</c> (no presence, no admin key needed).</summary>
    public string Target { get; private init; } = WatchTargets.Tally;

    public bool IsTally => Target == WatchTargets.Tally;

    /// <summary>A label for the report: the baseline's variant (<c>naive</c>, <c>throttled</c>) the script started it with.</summary>
    public string? Variant { get; private init; }

    /// <summary><c>sse</c> (<c>GET /v1/polls/{id}/events</c>) or <c>ws</c> (<c>GET /v1/ws</c>, subprotocol <c>tally.json.v1</c>).</summary>
    public string Transport { get; private init; } = WatchTransports.Sse;

    /// <summary>What reads the WebSocket watchers: <see cref="WatchClients.DotNet"/> (default) or <see cref="WatchClients.Node"/>.</summary>
    public string Client { get; private init; } = WatchClients.DotNet;

    /// <summary>fanout: watchers of the one poll. idle: the most watchers to connect (fewer when the machine refuses more).</summary>
    public int Watchers { get; private init; }

    /// <summary>idle: polls the watchers are spread over.</summary>
    public int Polls { get; private init; }

    /// <summary>fanout: votes per second, sent on a fixed schedule whatever the answers do (open loop).</summary>
    public double Rate { get; private init; }

    /// <summary>fanout: concurrent sender loops (one connection each) that share the schedule.</summary>
    public int Senders { get; private init; }

    public TimeSpan Duration { get; private init; }

    public TimeSpan Warmup { get; private init; }

    /// <summary>Watchers connecting at once.</summary>
    public int ConnectConcurrency { get; private init; }

    /// <summary>Watcher sockets are bound to 127.0.0.1 … 127.0.0.N in turn, each with its own ~28k ephemeral ports.</summary>
    public int SourceAddresses { get; private init; }

    /// <summary>How long connecting all watchers may take before the run goes on with those connected.</summary>
    public TimeSpan ConnectTimeout { get; private init; }

    /// <summary>
    /// fanout: how long to wait, after connecting, for every watcher's live messages to show the run's watcher count
    /// (presence). A cluster whose nodes count only their own watchers never shows it: then the run goes on after this.
    /// </summary>
    public TimeSpan PresenceTimeout { get; private init; }

    /// <summary>fanout: how long the watchers may take to reach the served seq after the last ack (a collapsed baseline may never).</summary>
    public TimeSpan DrainTimeout { get; private init; }

    public int? ServerPid { get; private init; }

    /// <summary>
    /// Processes whose CPU, with their descendants', counts as the server's instead of <see cref="ServerPid"/>'s alone
    /// (a cluster: its nodes, NATS, Redis, PostgreSQL and nginx); fanout only. Memory figures still read <see cref="ServerPid"/> only.
    /// </summary>
    public IReadOnlyList<int>? CpuPids { get; private init; }

    /// <summary>
    /// fanout: when other processes took more than this share of one core during the measured window, the run is
    /// not recorded and exits 4 (the script runs it again once the machine is quiet). Null: always recorded.
    /// </summary>
    public double? NoiseLimit { get; private init; }

    /// <summary>Where to write the run's result as JSON (for <c>report-fanout</c>).</summary>
    public string? JsonPath { get; private init; }

    /// <summary>Most votes the run may send, whatever the duration: rate × (warm-up + duration), rounded up.</summary>
    public long MaxVotes => (long)Math.Ceiling(Rate * (Warmup + Duration).TotalSeconds);

    public static WatchArgs Parse(string scenario, string[] args) => Parse(scenario, LoadArgs.Pairs(args));

    /// <summary>From option names (without <c>--</c>) and their text: defaults filled in, ranges checked.</summary>
    public static WatchArgs Parse(string scenario, Dictionary<string, string> values)
    {
        var many = scenario == Scenarios.ManyPolls;
        var fanout = scenario is Scenarios.Fanout or Scenarios.ManyPolls;
        var target = values.GetValueOrDefault("target") ?? WatchTargets.Tally;
        if (target is not (WatchTargets.Tally or WatchTargets.Ceiling or WatchTargets.SignalR or WatchTargets.SocketIo or WatchTargets.NodeWs))
        {
            throw new ArgumentException("--target is tally, ceiling, signalr, socketio or nodews.");
        }

        var parsed = new WatchArgs
        {
            Target = target,
            Variant = values.GetValueOrDefault("variant"),
            Url = LoadArgs.LoopbackUrl(values.GetValueOrDefault("url") ?? throw new ArgumentException("--url is required.")),
            AdminKey = values.GetValueOrDefault("admin-key") ?? Environment.GetEnvironmentVariable("TALLY_ADMIN_KEY")
                ?? (target == WatchTargets.Tally ? throw new ArgumentException("--admin-key (or TALLY_ADMIN_KEY) is required to create the polls.") : "none"),
            Transport = target == WatchTargets.SocketIo && values.GetValueOrDefault("transport") == WatchTransports.SocketIoLibrary
                ? WatchTransports.SocketIoLibrary
                : WatchTargets.TransportOf(target) ?? values.GetValueOrDefault("transport") ?? WatchTransports.Sse,
            Watchers = LoadArgs.Int(values, "watchers", fanout && !many ? 1000 : 10_000, 1, 200_000),
            Polls = fanout ? LoadArgs.Int(values, "polls", many ? 10_000 : 1, 1, 100_000) : LoadArgs.Int(values, "polls", 4, 1, 64),
            Rate = fanout ? LoadArgs.Double(values, "rate", 1000, 0.1, 50_000) : 0,
            Senders = fanout ? LoadArgs.Int(values, "senders", 16, 1, 256) : 0,
            Duration = TimeSpan.FromSeconds(LoadArgs.Double(values, "duration", fanout ? 10 : 5, 0.5, 600)),
            Warmup = TimeSpan.FromSeconds(LoadArgs.Double(values, "warmup", fanout ? 2 : 0, 0, 120)),
            ConnectConcurrency = LoadArgs.Int(values, "connect-concurrency", 64, 1, 1024),
            SourceAddresses = LoadArgs.Int(values, "source-addresses", 1, 1, 250),
            ConnectTimeout = TimeSpan.FromSeconds(LoadArgs.Double(values, "connect-timeout", 120, 1, 600)),
            DrainTimeout = TimeSpan.FromSeconds(LoadArgs.Double(values, "drain-timeout", 15, 1, 120)),
            PresenceTimeout = TimeSpan.FromSeconds(LoadArgs.Double(values, "presence-timeout", 30, 0, 120)),
            ServerPid = values.TryGetValue("server-pid", out var pid) ? int.Parse(pid, CultureInfo.InvariantCulture) : null,
            CpuPids = values.TryGetValue("cpu-pids", out var pids) ? LoadArgs.PidList(pids) : null,
            JsonPath = values.GetValueOrDefault("json"),
            NoiseLimit = values.ContainsKey("noise-limit") ? LoadArgs.Double(values, "noise-limit", 0.25, 0.01, 2) : null,
            Client = values.GetValueOrDefault("client") ?? WatchClients.DotNet,
        };

        if (parsed.Client is not (WatchClients.DotNet or WatchClients.Node)
            || (parsed.Client == WatchClients.Node && parsed.Transport is not (WatchTransports.WebSocket or WatchTransports.CeilingWebSocket or WatchTransports.SocketIo or WatchTransports.SignalR)))
        {
            throw new ArgumentException("--client is dotnet or node; node reads WebSockets (Tally's ws, the ceiling's, socket.io's, SignalR's), not SSE or the SocketIOClient package.");
        }

        if (parsed.IsTally && parsed.Transport is not (WatchTransports.Sse or WatchTransports.WebSocket))
        {
            throw new ArgumentException("--transport is sse or ws.");
        }

        if (parsed.MaxVotes > 10_000_000)
        {
            throw new ArgumentException("--rate × (--warmup + --duration) must stay within 10,000,000 votes.");
        }

        LoadArgs.RejectUnknown(values, fanout
            ? ["url", "target", "variant", "admin-key", "transport", "watchers", "polls", "rate", "senders", "duration", "warmup", "connect-concurrency", "source-addresses", "connect-timeout", "drain-timeout", "presence-timeout", "server-pid", "cpu-pids", "json", "noise-limit", "client"]
            : ["url", "target", "variant", "admin-key", "transport", "watchers", "polls", "duration", "connect-concurrency", "source-addresses", "connect-timeout", "server-pid", "json", "client"]);
        return parsed;
    }
}
