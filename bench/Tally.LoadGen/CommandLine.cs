using System.CommandLine;
using System.CommandLine.Parsing;

namespace Tally.LoadGen;

/// <summary>
/// The load generator's commands and options (System.CommandLine: help, typed values, unknown options refused). Each
/// command hands the options given on its line, by name, to the scenario's own parser (<see cref="LoadArgs"/>,
/// <see cref="WatchArgs"/>), which fills in defaults and checks ranges.
/// </summary>
internal static class CommandLine
{
    private const string CpuPidsHelp =
        "pids separated by commas whose CPU seconds, with their descendants', count as the server's (a cluster's nodes, NATS, Redis, PostgreSQL, nginx) instead of --server-pid's alone";

    public static RootCommand Build(Func<string, Dictionary<string, string>, Task<int>> run)
    {
        var root = new RootCommand(
            "Tally's load generator: drives a running server (Tally, or a baseline of bench/baselines/) over real loopback sockets. "
            + "Only loopback addresses are accepted. Every loop is bounded in time and count. Against Tally a run checks that the server "
            + "counted exactly what it acknowledged, or that every watcher ends with the counts GET /results serves; it exits 3 when it did not. "
            + "With --noise-limit F a fanout run that other processes disturbed (more than F of a core) is not recorded and exits 4.");

        Option[] Ingest(bool batch) =>
        [
            Text("url", "the server's base address, http://127.0.0.1:PORT", required: true),
            Text("target", "tally (creates its polls, verifies the counts) or ceiling (bench/baselines/KestrelCeiling)"),
            Number<int>("concurrency", "concurrent loops, one connection (or WebSocket) each (default 64 for single votes, 4 for batches)"),
            Number<double>("duration", "seconds measured (default 10)"),
            Number<double>("warmup", "seconds of warm-up before the measured window (default 2)"),
            .. batch ? [Number<int>("batch", "votes per request (default 1000)")] : Array.Empty<Option>(),
            Number<int>("polls", "polls the votes are spread over (default 1 for single votes, 4 for batches)"),
            .. batch ? Array.Empty<Option>() : [Text("kind", "Tally's polls: single (3 options, default), rating (1-5, votes by value), ranking (10 options, each vote a full ranking: many distinct rankings), text (open answers of 3-8 words from a 5,000-word vocabulary, Zipf-like: the word cloud's terms) or quiz (one event, 10,000 participants answering 100 quiz questions in turn: every answer scores on the leaderboard)")],
            Number<long>("max-requests", "most requests the run may send, whatever the duration"),
            Text("admin-key", "Tally's admin key, to create the polls (default: TALLY_ADMIN_KEY)"),
            Number<int>("server-pid", "the server's pid: its CPU seconds and peak RSS are read from /proc"),
            Text("cpu-pids", CpuPidsHelp),
            Text("json", "write the run's result to this file (for the report commands)"),
        ];

        Option[] Watch(bool fanout) =>
        [
            Text("url", "the server's base address, http://127.0.0.1:PORT", required: true),
            Text("target", "tally (default), ceiling, signalr or socketio: a baseline's watchers use its own protocol"),
            Text("admin-key", "Tally's admin key, to create the polls (default: TALLY_ADMIN_KEY; baselines need none)"),
            Text("transport", "Tally's watchers: sse or ws; socket.io: socketio-lib to use the SocketIOClient package"),
            Text("client", "what reads WebSocket watchers (Tally's ws, the ceiling's, socket.io's, SignalR's): dotnet (the load generator's own clients, default) or node (one Node.js process, bench/watchers; npm ci there first)"),
            Number<int>("watchers", fanout ? "watchers (default 1,000; 10,000 for many-polls)" : "most watchers to connect (default 10,000)"),
            Number<int>("polls", fanout ? "polls the watchers and votes are spread over (default 1; 10,000 for many-polls)" : "polls the watchers are spread over (default 4)"),
            .. fanout
                ? new Option[]
                {
                    Text("variant", "a label for the report: the baseline's variant (naive or throttled)"),
                    Number<double>("rate", "votes per second, on a fixed schedule (default 1,000)"),
                    Number<int>("senders", "concurrent sender loops sharing the schedule (default 16)"),
                    Number<double>("warmup", "seconds of warm-up before the measured window (default 2)"),
                    Number<double>("presence-timeout", "seconds to wait for the watchers' live messages to show the run's watcher count (default 30)"),
                    Number<double>("drain-timeout", "seconds the watchers may take to reach the served seq after the last vote (default 15)"),
                    Number<double>("noise-limit", "share of a core other processes may take in the window before the run is not recorded (exit 4)"),
                }
                : [],
            Number<double>("duration", fanout ? "seconds measured (default 10)" : "seconds the watchers sit idle (default 5)"),
            Number<int>("connect-concurrency", "watchers connecting at once (default 64)"),
            Number<int>("source-addresses", "bind watcher sockets to 127.0.0.1 … 127.0.0.N in turn, past one address's ephemeral ports (default 1)"),
            Number<double>("connect-timeout", "seconds connecting may take (default 120)"),
            Number<int>("server-pid", "the server's pid: CPU seconds and RSS are read from /proc"),
            .. fanout ? [Text("cpu-pids", CpuPidsHelp)] : Array.Empty<Option>(),
            Text("json", "write the run's result to this file (for the report commands)"),
        ];

        Add(root, run, Scenarios.IngestSingle, "HTTP single votes (POST /v1/polls/{id}/votes), one at a time per loop", Ingest(batch: false));
        Add(root, run, Scenarios.IngestBatch, "batches of votes (POST /v1/votes/batch); Tally only", Ingest(batch: true));
        Add(root, run, Scenarios.IngestAuth, "HTTP single votes carrying a credential (--auth none, key, hs256, rs256, es256 or anon), --votes-per-token votes per voter; Tally only",
        [
            .. Ingest(batch: false).Where(o => o.Name is not ("--polls" or "--target" or "--kind")),
            Text("auth", "none (the body's voterId), key (an API key with votes:write), hs256 / rs256 / es256 (a voter token a host app signs; JWKS served by this process), anon (POST /v1/voters)"),
            Number<int>("votes-per-token", "votes each voter casts with its credential, one on each of that many polls (default 1: every request a token never seen)"),
        ]);
        Add(root, run, Scenarios.IngestWs, "votes over Tally's WebSocket `vote` op, one at a time per socket", Ingest(batch: false));
        Add(root, run, Scenarios.Fanout, "N watchers of one poll, votes over HTTP at a fixed rate: vote → watcher latency", Watch(fanout: true));
        Add(root, run, Scenarios.ManyPolls, "watchers spread over many polls (default 10,000), votes spread over them", Watch(fanout: true));
        Add(root, run, Scenarios.Idle, "as many idle watchers as the machine allows: server memory and CPU per idle watcher", Watch(fanout: false));
        Add(root, run, Scenarios.Report, "markdown of ingest runs (bench/ingest.sh)", [Text("dir", "folder of run JSON files", required: true)]);
        Add(root, run, Scenarios.ReportAuth, "markdown of ingest-auth runs (bench/auth.sh)", [Text("dir", "folder of run JSON files", required: true)]);
        Add(root, run, Scenarios.ReportFanout, "markdown of fanout and idle runs (bench/fanout.sh)", [Text("dir", "folder of run JSON files", required: true)]);
        Add(root, run, Scenarios.ReportCompare, "markdown and charts of a bench/run.sh comparison",
        [
            Text("dir", "folder of run JSON files", required: true),
            Text("charts", "folder to write the PNG charts to"),
            Text("chart-link", "how the markdown links the charts folder (default: --charts)"),
        ]);
        return root;
    }

    private static void Add(RootCommand root, Func<string, Dictionary<string, string>, Task<int>> run, string name, string description, Option[] options)
    {
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        command.SetAction((parsed, _) => run(name, Given(parsed, options)));
        root.Subcommands.Add(command);
    }

    /// <summary>The options given on the line, by name without <c>--</c>, as their last token's text.</summary>
    private static Dictionary<string, string> Given(ParseResult parsed, Option[] options)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var option in options)
        {
            if (parsed.GetResult(option) is { Implicit: false, Tokens.Count: > 0 } result)
            {
                values[option.Name.TrimStart('-')] = result.Tokens[^1].Value;
            }
        }

        return values;
    }

    private static Option<string> Text(string name, string description, bool required = false) =>
        new("--" + name) { Description = description, Required = required };

    private static Option<T> Number<T>(string name, string description) => new("--" + name) { Description = description };
}
