using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Faults.Cluster;

/// <summary>What a vote's sender knows of it at the end.</summary>
internal enum VoteOutcome
{
    /// <summary>Still being retried.</summary>
    Pending,

    /// <summary>201: the vote must be counted, exactly once.</summary>
    Acknowledged,

    /// <summary>A 4xx other than 404/429: the vote must not be counted.</summary>
    Refused,

    /// <summary>No answer to at least one attempt (a timeout, a broken connection, a 503): counted once or not at all.</summary>
    Unknown,

    /// <summary>Every attempt failed to connect: nothing reached a server, so it must not be counted.</summary>
    NeverSent,
}

/// <summary>One vote as its client lived it: the same idempotency key on every attempt, whatever node it went to.</summary>
internal sealed class VoteRecord(int id, string poll, int option)
{
    public int Id => id;

    public string Poll => poll;

    public int Option => option;

    public string Voter => "voter-" + id;

    public string Key => "key-" + id;

    public VoteOutcome Outcome { get; set; }

    public string? VoteId { get; set; }

    public int Attempts { get; set; }

    /// <summary>An attempt left without an answer after it may have reached a server.</summary>
    public bool MaybeApplied { get; set; }

    public string? Refusal { get; set; }
}

/// <summary>
/// The clients' side of a run: voters that send votes to any node and retry on another with the same idempotency key
/// until answered (as a client behind a load balancer does), and watchers that follow each poll over SSE, reconnecting
/// to the next node with <c>Last-Event-ID</c> when their stream ends or falls silent past two heartbeats.
/// </summary>
internal sealed class FaultHistory(FaultCluster cluster, IReadOnlyList<string> polls, int seed)
{
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(5);
    private int _next;

    public ConcurrentQueue<VoteRecord> Votes { get; } = new();

    public List<Watcher> Watchers { get; } = [];

    /// <summary>Sends votes until <paramref name="stopSending"/> (at most <paramref name="maxVotes"/>), retrying each until answered or <paramref name="giveUp"/>.</summary>
    public async Task VoteAsync(int workers, int maxVotes, CancellationToken stopSending, CancellationToken giveUp)
    {
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => VoterAsync(w, maxVotes, stopSending, giveUp), CancellationToken.None)));
    }

    private async Task VoterAsync(int worker, int maxVotes, CancellationToken stopSending, CancellationToken giveUp)
    {
        var random = new Random(HashCode.Combine(seed, worker));
        var clients = cluster.Nodes.Select(n => n.NewClient(admin: false, TimeSpan.FromSeconds(4))).ToArray();
        try
        {
            int id;
            while (!stopSending.IsCancellationRequested && (id = Interlocked.Increment(ref _next)) <= maxVotes)
            {
                var vote = new VoteRecord(id, polls[id % polls.Count], 1 + random.Next(3));
                Votes.Enqueue(vote);
                await CastAsync(vote, clients, random, giveUp);
                await Task.Delay(random.Next(5, 25), CancellationToken.None); // a few hundred votes/s over all workers: the cores are shared
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static async Task CastAsync(VoteRecord vote, HttpClient[] clients, Random random, CancellationToken giveUp)
    {
        var node = random.Next(clients.Length);
        while (!giveUp.IsCancellationRequested)
        {
            vote.Attempts++;
            try
            {
                using var response = await clients[node].VoteAsync(vote.Poll, [vote.Option], vote.Voter, vote.Key);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.Created:
                        vote.VoteId = (string)(await response.ReadJsonAsync())["voteId"]!;
                        vote.Outcome = VoteOutcome.Acknowledged;
                        return;
                    case HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.BadGateway:
                        vote.MaybeApplied = true; // a forward that timed out may have reached the owner
                        break;
                    case HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests:
                        break; // a restarted node's catalog not read yet; a rate limit: nothing was taken
                    default:
                        vote.Refusal = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}";
                        vote.Outcome = VoteOutcome.Refused;
                        return;
                }
            }
            catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError)
            {
                // refused or timed out connecting: this attempt reached no server
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                vote.MaybeApplied = true;
            }

            node = (node + 1 + random.Next(clients.Length - 1)) % clients.Length;
            try
            {
                await Task.Delay(100 + random.Next(200), giveUp);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        vote.Outcome = vote.MaybeApplied ? VoteOutcome.Unknown : VoteOutcome.NeverSent;
    }

    /// <summary>Starts <paramref name="perPoll"/> watchers of every poll, on different nodes.</summary>
    public void Watch(int perPoll, CancellationToken stop)
    {
        for (var p = 0; p < polls.Count; p++)
        {
            for (var w = 0; w < perPoll; w++)
            {
                var watcher = new Watcher(polls[p], (p + w) % cluster.Nodes.Count);
                Watchers.Add(watcher);
                watcher.Task = Task.Run(() => FollowAsync(watcher, stop), CancellationToken.None);
            }
        }
    }

    private async Task FollowAsync(Watcher watcher, CancellationToken stop)
    {
        var clients = cluster.Nodes.Select(n => n.NewClient(admin: false, TimeSpan.FromSeconds(4))).ToArray();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var stream = await SseClient.ConnectAsync(clients[watcher.Node], $"/v1/polls/{watcher.Poll}/events", watcher.View.Seq >= 0 ? watcher.View.Seq.ToString(CultureInfo.InvariantCulture) : null);
                    watcher.Connections++;
                    while (!stop.IsCancellationRequested)
                    {
                        var message = await stream.NextAsync(Silence).WaitAsync(stop);
                        watcher.Apply(message);
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException or EndOfStreamException or TimeoutException)
                {
                    watcher.Node = (watcher.Node + 1) % clients.Length; // the next node, as a client with a list of them would
                    try
                    {
                        await Task.Delay(200, stop);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>One watcher's view and what it noticed on the way (checked message by message).</summary>
    internal sealed class Watcher(string poll, int node)
    {
        private readonly Lock _gate = new();

        public string Poll => poll;

        public int Node { get; set; } = node;

        public LiveTally View { get; } = new();

        public int Connections { get; set; }

        public long Messages { get; private set; }

        public Task Task { get; set; } = Task.CompletedTask;

        /// <summary>Anything a watcher must never see: seq going back, counts that do not add up to the total.</summary>
        public List<string> Anomalies { get; } = [];

        public (long Seq, Dictionary<int, long> Counts) Read()
        {
            lock (_gate)
            {
                return (View.Seq, new Dictionary<int, long>(View.Counts));
            }
        }

        public void Apply(SseEvent message)
        {
            lock (_gate)
            {
                Messages++;
                var before = View.Seq;
                var stale = View.StaleDeltas.Count;
                View.Apply(message);
                if (View.StaleDeltas.Count > stale)
                {
                    Anomalies.Add($"a {message.Name} at seq {View.StaleDeltas[^1]} changed counts the watcher had at seq {before}");
                }

                if (message.Name == "snapshot" && View.Seq < before)
                {
                    Anomalies.Add($"a snapshot took the watcher back from seq {before} to {View.Seq}");
                }

                // Single choice: the option counts add up to the ballots. A lost delta leaves an option behind, and the sum off.
                if (message.Name is "snapshot" or "delta" && View.Counts.Values.Sum() != View.TotalVotes)
                {
                    Anomalies.Add($"at seq {View.Seq} the counts add up to {View.Counts.Values.Sum()}, the total says {View.TotalVotes} (a change was missed)");
                }
            }
        }
    }
}
