using System.Globalization;
using System.Net;

namespace Tally.LoadGen;

/// <summary>The command line of one scenario run: <c>--name value</c> pairs, checked before anything is sent.</summary>
internal sealed class LoadArgs
{
    private readonly Dictionary<string, string> _values;

    private LoadArgs(Dictionary<string, string> values) => _values = values;

    /// <summary>The server's base address; only loopback addresses are accepted.</summary>
    public Uri Url { get; private init; } = null!;

    /// <summary><c>tally</c> (creates polls, verifies counts) or <c>ceiling</c> (any poll id works).</summary>
    public string Target { get; private init; } = "tally";

    public int Concurrency { get; private init; }

    public TimeSpan Duration { get; private init; }

    public TimeSpan Warmup { get; private init; }

    /// <summary>Votes per request: 1 for single votes, B for batches.</summary>
    public int Batch { get; private init; }

    /// <summary><c>ingest-single</c> against Tally: the kind of its polls (single, rating, ranking), or quiz: the answers of an event's participants.</summary>
    public string Kind { get; private init; } = "single";

    /// <summary>Polls the votes are spread over (Tally only).</summary>
    public int Polls { get; private init; }

    /// <summary>Most requests the whole run may send, whatever the duration: every loop is bounded in count as well as time.</summary>
    public long MaxRequests { get; private init; }

    public string? AdminKey { get; private init; }

    /// <summary><c>ingest-auth</c>: what the votes carry (<see cref="AuthSetup.Modes"/>).</summary>
    public string Auth { get; private init; } = "none";

    /// <summary><c>ingest-auth</c>: votes per voter (and its token), one on each of that many polls.</summary>
    public int VotesPerToken { get; private init; } = 1;

    public int? ServerPid { get; private init; }

    /// <summary>
    /// Processes whose CPU, with their descendants', counts as the server's instead of <see cref="ServerPid"/>'s alone
    /// (a cluster: its nodes, NATS, Redis, PostgreSQL and nginx). Memory figures still read <see cref="ServerPid"/> only.
    /// </summary>
    public IReadOnlyList<int>? CpuPids { get; private init; }

    /// <summary>Where to write the run's result as JSON (for <c>report</c>).</summary>
    public string? JsonPath { get; private init; }

    public bool IsTally => Target == "tally";

    public static LoadArgs Parse(string scenario, string[] args) => Parse(scenario, Pairs(args));

    /// <summary>From option names (without <c>--</c>) and their text: defaults filled in, ranges checked.</summary>
    public static LoadArgs Parse(string scenario, Dictionary<string, string> values)
    {
        var single = scenario is Scenarios.IngestSingle or Scenarios.IngestWs or Scenarios.IngestAuth;
        var authRun = scenario == Scenarios.IngestAuth;
        var parsed = new LoadArgs(values)
        {
            Url = LoopbackUrl(values.GetValueOrDefault("url") ?? throw new ArgumentException("--url is required.")),
            Target = values.GetValueOrDefault("target") ?? "tally",
            Concurrency = Int(values, "concurrency", single ? 64 : 4, 1, 1024),
            Duration = TimeSpan.FromSeconds(Double(values, "duration", 10, 0.5, 600)),
            Warmup = TimeSpan.FromSeconds(Double(values, "warmup", 2, 0, 120)),
            Batch = single ? 1 : Int(values, "batch", 1000, 1, 10_000),
            Polls = Int(values, "polls", single ? 1 : 4, 1, 64),
            MaxRequests = Long(values, "max-requests", single ? 20_000_000 : 200_000, 1, 100_000_000),
            AdminKey = values.GetValueOrDefault("admin-key") ?? Environment.GetEnvironmentVariable("TALLY_ADMIN_KEY"),
            ServerPid = values.TryGetValue("server-pid", out var pid) ? int.Parse(pid, CultureInfo.InvariantCulture) : null,
            CpuPids = values.TryGetValue("cpu-pids", out var pids) ? LoadArgs.PidList(pids) : null,
            JsonPath = values.GetValueOrDefault("json"),
            Auth = values.GetValueOrDefault("auth") ?? "none",
            VotesPerToken = Int(values, "votes-per-token", 1, 1, 64),
            Kind = values.GetValueOrDefault("kind") ?? "single",
        };

        if (parsed.Kind is not ("single" or "rating" or "ranking" or "text" or "quiz") || (values.ContainsKey("kind") && (scenario != Scenarios.IngestSingle || !parsed.IsTally)))
        {
            throw new ArgumentException("--kind is single, rating, ranking, text or quiz, for ingest-single against Tally.");
        }

        if (!authRun && (values.ContainsKey("auth") || values.ContainsKey("votes-per-token")))
        {
            throw new ArgumentException("--auth and --votes-per-token belong to ingest-auth.");
        }

        if (authRun && (!AuthSetup.Modes.Contains(parsed.Auth) || !parsed.IsTally || values.ContainsKey("polls")))
        {
            throw new ArgumentException($"ingest-auth runs against Tally, --auth is one of {string.Join(", ", AuthSetup.Modes)}, and its polls are --votes-per-token.");
        }

        if (parsed.Target is not ("tally" or "ceiling"))
        {
            throw new ArgumentException("--target is tally or ceiling.");
        }

        if (scenario == Scenarios.IngestWs && !parsed.IsTally)
        {
            throw new ArgumentException("ingest-ws votes over Tally's WebSocket: it runs against Tally only.");
        }

        if (!single && !parsed.IsTally)
        {
            throw new ArgumentException("The ceiling has no batch endpoint: ingest-batch runs against Tally only.");
        }

        if (parsed.IsTally && string.IsNullOrEmpty(parsed.AdminKey))
        {
            throw new ArgumentException("Against Tally, --admin-key (or TALLY_ADMIN_KEY) is required to create the polls.");
        }

        RejectUnknown(values, "url", "target", "concurrency", "duration", "warmup", "batch", "polls", "max-requests", "admin-key", "server-pid", "cpu-pids", "json", "auth", "votes-per-token", "kind");
        return parsed;
    }

    /// <summary><c>--name value</c> pairs; a later pair of the same name wins.</summary>
    internal static Dictionary<string, string> Pairs(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Expected --name value, got '{name}'.");
            }

            values[name[2..]] = args[++i];
        }

        return values;
    }

    internal static void RejectUnknown(Dictionary<string, string> values, params string[] known)
    {
        if (values.Keys.FirstOrDefault(n => !known.Contains(n, StringComparer.Ordinal)) is { } unknown)
        {
            throw new ArgumentException($"Unknown option --{unknown}.");
        }
    }

    /// <summary>The load generator sends only to this machine: a loopback IP literal or <c>localhost</c>.</summary>
    internal static Uri LoopbackUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"--url must be an absolute http:// address, got '{text}'.");
        }

        var loopback = uri.IsLoopback && (uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip)));
        if (!loopback)
        {
            throw new ArgumentException($"--url must point at a loopback address (127.0.0.1), got '{uri.Host}'.");
        }

        return new Uri(uri.GetLeftPart(UriPartial.Authority));
    }

    /// <summary>A comma-separated list of pids, e.g. <c>123,456</c>.</summary>
    internal static List<int> PidList(string text)
    {
        var pids = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : throw new ArgumentException($"--cpu-pids takes pids separated by commas, got '{p}'."))
            .ToList();
        return pids.Count > 0 ? pids : throw new ArgumentException("--cpu-pids is empty.");
    }

    internal static int Int(Dictionary<string, string> values, string name, int fallback, int min, int max) =>
        (int)Long(values, name, fallback, min, max);

    internal static long Long(Dictionary<string, string> values, string name, long fallback, long min, long max)
    {
        var value = values.TryGetValue(name, out var text) ? long.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return value < min || value > max ? throw new ArgumentException($"--{name} must be within {min}..{max}, got {value}.") : value;
    }

    internal static double Double(Dictionary<string, string> values, string name, double fallback, double min, double max)
    {
        var value = values.TryGetValue(name, out var text) ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return value < min || value > max ? throw new ArgumentException($"--{name} must be within {min}..{max}, got {value}.") : value;
    }
}
