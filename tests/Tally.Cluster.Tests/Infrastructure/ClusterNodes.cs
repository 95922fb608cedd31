using Tally.Projections;
using NATS.Client.Core;
using Npgsql;
using Tally.Cluster.Engine;
using Tally.Engine;
using Tally.Polls;

namespace Tally.Cluster.Tests.Infrastructure;

/// <summary>
/// Cluster nodes in this process, each with a NATS connection of its own (as separate processes would have),
/// in a namespace of their own on the given nats-server, with short leases so hand-overs happen within seconds.
/// </summary>
public sealed class ClusterNodes(string natsUrl, int partitions = 8) : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly string _namespace = "t" + Guid.NewGuid().ToString("N")[..12];
    private readonly List<(ClusterEngine Engine, NatsConnection Nats)> _nodes = [];

    public int Partitions => partitions;

    /// <param name="postgres">A PostgreSQL for the ledger and the partitions' snapshots; none by default.</param>
    /// <param name="engineOptions">The partitions' engine settings; the defaults by default.</param>
    /// <param name="time">The node's clock; the system's by default.</param>
    /// <param name="configure">Runs on the node before it starts (test hooks).</param>
    public async Task<ClusterEngine> StartNodeAsync(string name, string? postgres = null, TallyEngineOptions? engineOptions = null, TimeProvider? time = null, Action<ClusterEngine>? configure = null)
    {
        var engine = await CreateNodeAsync(name, postgres, engineOptions, time);
        configure?.Invoke(engine);
        await engine.StartAsync(default).WaitAsync(Timeout);
        return engine;
    }

    /// <summary>A node of this cluster, connected to NATS but not started.</summary>
    public async Task<ClusterEngine> CreateNodeAsync(string name, string? postgres = null, TallyEngineOptions? engineOptions = null, TimeProvider? time = null)
    {
        var nats = new NatsConnection(new NatsOpts { Url = natsUrl, Name = name });
        await nats.ConnectAsync().AsTask().WaitAsync(Timeout);
        var engine = new ClusterEngine(
            nats,
            new ClusterOptions { Namespace = _namespace, Replicas = 1, AllowFewerReplicas = true, Partitions = partitions, LeaseTtl = TimeSpan.FromSeconds(2), NodeId = name, ForwardTimeout = TimeSpan.FromSeconds(10), UnfollowAfter = TimeSpan.FromSeconds(1) },
            engineOptions ?? new TallyEngineOptions(),
            time,
            ledger: postgres is null ? null : NpgsqlDataSource.Create(postgres));
        _nodes.Add((engine, nats));
        return engine;
    }

    /// <summary>Creates a poll through <paramref name="node"/>, retrying while its partition changes hands.</summary>
    public static async Task<string> CreatePollAsync(ClusterEngine node, int options = 2, DedupePolicy dedupe = DedupePolicy.Voter)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (true)
        {
            var outcome = await node.CreatePollAsync(new CreatePoll("Q?", [.. Enumerable.Range(1, options).Select(i => "o" + i)], Dedupe: dedupe)).WaitAsync(Timeout);
            if (outcome.Value is { } poll)
            {
                return poll.Poll.Id;
            }

            Assert.Equal(RejectionKind.Unavailable, outcome.Rejection!.Kind);
            await Task.Delay(50, deadline.Token);
        }
    }

    /// <summary>Casts a vote, retrying with the same idempotency key while the answer is 503 (unavailable or overloaded), as a client would.</summary>
    public static async Task<VoteOutcome> VoteUntilAnsweredAsync(Func<ClusterEngine> node, CastVote vote)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (true)
        {
            var outcome = await node().CastVoteAsync(vote).AsTask().WaitAsync(Timeout);
            if (outcome.Rejection is not { Kind: RejectionKind.Unavailable or RejectionKind.Overloaded })
            {
                return outcome;
            }

            await Task.Delay(50, deadline.Token);
        }
    }

    /// <summary>The poll's committed results as <paramref name="node"/> answers them (null while its partition has no owner).</summary>
    public static async Task<PollResults?> ResultsAsync(ClusterEngine node, string poll) => (await node.GetResultsAsync(poll, CancellationToken.None)).Value;

    /// <summary>Stops a node the clean way (it hands its partitions over, with a final snapshot each).</summary>
    public static async Task StopNodeAsync(ClusterEngine node) => await node.StopAsync(default).WaitAsync(Timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var (engine, nats) in _nodes)
        {
            await engine.DisposeAsync();
            await nats.DisposeAsync();
        }
    }
}
