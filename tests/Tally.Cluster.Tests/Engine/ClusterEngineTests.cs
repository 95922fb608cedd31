using Tally.Cluster.Engine;
using Tally.Cluster.Tests.Infrastructure;
using Tally.Testing.Engines;
using Tally.Engine;
using Tally.Polls;
using Tally.Testing;

namespace Tally.Cluster.Tests.Engine;

/// <summary>Cluster nodes (in this process, on a real nats-server) sharing partitions, forwarding commands and reading the same results.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterEngineTests(ClusterEngines engines) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = ClusterNodes.Timeout;
    private ClusterNodes _cluster = null!;

    public Task InitializeAsync()
    {
        _cluster = new ClusterNodes(engines.Nats.Url);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_lone_node_owns_every_partition_and_a_second_node_takes_half()
    {
        var a = await _cluster.StartNodeAsync("a");
        Assert.Equal(_cluster.Partitions, a.OwnedPartitions.Count);

        var b = await _cluster.StartNodeAsync("b");
        await Eventually.WaitUntilAsync(() => a.OwnedPartitions.Count == _cluster.Partitions / 2 && b.OwnedPartitions.Count == _cluster.Partitions / 2, Timeout);
        Assert.Empty(a.OwnedPartitions.Intersect(b.OwnedPartitions));
    }

    [Fact]
    public async Task A_vote_on_any_node_counts_and_every_node_reads_the_same_results()
    {
        var a = await _cluster.StartNodeAsync("a");
        var b = await _cluster.StartNodeAsync("b");
        var polls = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            polls.Add(await ClusterNodes.CreatePollAsync(i % 2 == 0 ? a : b));
        }

        var nodes = new[] { a, b };
        var expected = polls.ToDictionary(p => p, _ => 1L); // PollCreated is seq 1
        for (var i = 0; i < 40; i++)
        {
            var poll = polls[i % polls.Count];
            var outcome = await ClusterNodes.VoteUntilAnsweredAsync(() => nodes[i % 2], new CastVote(poll, [1 + (i % 2)], "v" + i, null));
            Assert.Equal(VoteStatus.Counted, outcome.Status);
            Assert.Equal(++expected[poll], outcome.Seq);
        }

        foreach (var poll in polls)
        {
            // Acknowledged means committed on the owner, and both nodes ask the owner: no waiting.
            var onA = await ClusterNodes.ResultsAsync(a, poll);
            var onB = await ClusterNodes.ResultsAsync(b, poll);
            Assert.Equal(expected[poll], onA!.Seq);
            Assert.Equal(expected[poll], onB!.Seq);
            Assert.Equal(onA.Counts, onB.Counts);
        }

        Assert.Equal(40, (await Task.WhenAll(polls.Select(p => ClusterNodes.ResultsAsync(b, p)))).Sum(r => r!.TotalVotes));
        Assert.Equal(0, a.FollowedPolls + b.FollowedPolls); // nobody watches: no node follows any poll
    }

    [Fact]
    public async Task A_node_follows_only_the_polls_its_watchers_watch_gets_their_updates_and_lets_them_go()
    {
        var a = await _cluster.StartNodeAsync("a");
        var b = await _cluster.StartNodeAsync("b");
        await Eventually.WaitUntilAsync(() => a.OwnedPartitions.Count == _cluster.Partitions / 2 && b.OwnedPartitions.Count == _cluster.Partitions / 2, Timeout);
        var watched = await ClusterNodes.CreatePollAsync(b);
        var other = await ClusterNodes.CreatePollAsync(b);
        var streamed = true;
        a.IsStreamed = _ => Volatile.Read(ref streamed);

        Assert.Equal(watched, (await a.WatchAsync(watched, CancellationToken.None)).Value!.Id);
        Assert.True(a.IsFollowing(watched));
        Assert.Equal(1, a.Catalog.FindResults(watched)!.Seq);
        Assert.Equal(RejectionKind.UnknownPoll, (await a.WatchAsync("nosuchpoll", CancellationToken.None)).Rejection?.Kind);
        Assert.Equal(RejectionKind.UnknownPoll, (await a.WatchAsync("a.>", CancellationToken.None)).Rejection?.Kind); // never a NATS wildcard

        long seq = 0;
        for (var i = 0; i < 30; i++)
        {
            var node = i % 2 == 0 ? a : b;
            seq = (await ClusterNodes.VoteUntilAnsweredAsync(() => node, new CastVote(watched, [1 + (i % 2)], "v" + i, null))).Seq;
            await ClusterNodes.VoteUntilAnsweredAsync(() => node, new CastVote(other, [1], "v" + i, null));
        }

        // Updates of the watched poll reach a's catalog (whichever node owns its partition); the other poll never does.
        await Eventually.WaitUntilAsync(() => a.Catalog.FindResults(watched)?.Seq == seq, Timeout);
        Assert.Equal([15L, 15L], a.Catalog.FindResults(watched)!.Counts);
        Assert.Null(a.Catalog.FindResults(other));
        Assert.False(a.IsFollowing(other));

        // Once the hub streams the poll no more, the node unsubscribes (after UnfollowAfter, 1 s here).
        Volatile.Write(ref streamed, false);
        await Eventually.WaitUntilAsync(() => !a.IsFollowing(watched), Timeout);
        Assert.Equal(0, a.FollowedPolls);
    }

    [Fact]
    public async Task The_same_voter_voting_on_two_nodes_at_once_counts_once()
    {
        var a = await _cluster.StartNodeAsync("a");
        var b = await _cluster.StartNodeAsync("b");
        await Eventually.WaitUntilAsync(() => a.OwnedPartitions.Count + b.OwnedPartitions.Count == _cluster.Partitions && b.OwnedPartitions.Count > 0, Timeout);
        var poll = await ClusterNodes.CreatePollAsync(a);

        const int voters = 50;
        var answers = await Task.WhenAll(Enumerable.Range(0, voters).SelectMany(v => new[]
        {
            ClusterNodes.VoteUntilAnsweredAsync(() => a, new CastVote(poll, [1], "voter" + v, null)),
            ClusterNodes.VoteUntilAnsweredAsync(() => b, new CastVote(poll, [2], "voter" + v, null)),
        }));

        for (var v = 0; v < voters; v++)
        {
            var pair = new[] { answers[2 * v], answers[(2 * v) + 1] };
            Assert.Single(pair, o => o.Status == VoteStatus.Counted);
            Assert.Single(pair, o => o.Rejection?.Kind == RejectionKind.AlreadyVoted);
        }

        Assert.Equal(voters, (await ClusterNodes.ResultsAsync(a, poll))!.TotalVotes);
        Assert.Equal(voters, (await ClusterNodes.ResultsAsync(b, poll))!.Counts.Sum());
    }

    [Fact]
    public async Task A_node_that_dies_under_load_loses_no_acknowledged_vote_and_counts_none_twice()
    {
        var a = await _cluster.StartNodeAsync("a");
        var b = await _cluster.StartNodeAsync("b");
        await Eventually.WaitUntilAsync(() => a.OwnedPartitions.Count == _cluster.Partitions / 2 && b.OwnedPartitions.Count == _cluster.Partitions / 2, Timeout);
        var polls = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            polls.Add(await ClusterNodes.CreatePollAsync(b));
        }

        // Clients send through either node; once a quarter of the votes are acknowledged, with the rest in
        // flight, node a dies (no hand-over: its leases just expire). Clients retry 503s with the same key.
        const int voters = 400;
        var died = false;
        var acked = new int[polls.Count, 2];
        var ackedCount = 0;
        var quarter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var load = Enumerable.Range(0, voters).Select(async v =>
        {
            await Task.Yield();
            var poll = v % polls.Count;
            var option = 1 + (v % 3 == 0 ? 1 : 0);
            var outcome = await ClusterNodes.VoteUntilAnsweredAsync(() => Volatile.Read(ref died) || v % 2 == 0 ? b : a, new CastVote(polls[poll], [option], "voter" + v, "key" + v));
            Assert.Equal(VoteStatus.Counted, outcome.Status);
            lock (acked)
            {
                acked[poll, option - 1]++;
            }

            if (Interlocked.Increment(ref ackedCount) == voters / 4)
            {
                quarter.TrySetResult();
            }
        }).ToList();
        await quarter.Task.WaitAsync(Timeout);
        Volatile.Write(ref died, true);
        await a.AbandonAsync();
        await Task.WhenAll(load).WaitAsync(Timeout);
        Assert.Equal(voters, ackedCount);

        await Eventually.WaitUntilAsync(() => b.OwnedPartitions.Count == _cluster.Partitions, Timeout);
        var c = await _cluster.StartNodeAsync("c"); // a fresh node: partitions move to it, replayed from the log
        await Eventually.WaitUntilAsync(() => c.OwnedPartitions.Count > 0, Timeout);
        for (var p = 0; p < polls.Count; p++)
        {
            var poll = p;
            await Eventually.WaitUntilAsync(async () => (await ClusterNodes.ResultsAsync(b, polls[poll]))?.TotalVotes == acked[poll, 0] + acked[poll, 1], Timeout);
            Assert.Equal([acked[poll, 0], acked[poll, 1]], (await ClusterNodes.ResultsAsync(b, polls[poll]))!.Counts);
            await Eventually.WaitUntilAsync(async () => await ClusterNodes.ResultsAsync(c, polls[poll]) is not null, Timeout);
            Assert.Equal([acked[poll, 0], acked[poll, 1]], (await ClusterNodes.ResultsAsync(c, polls[poll]))!.Counts);
        }
    }

    [Fact]
    public async Task A_partition_handed_over_on_a_clean_stop_is_taken_from_its_snapshot_without_replaying_its_log()
    {
        var a = await _cluster.StartNodeAsync("a", engines.Postgres.ConnectionString);
        var poll = await ClusterNodes.CreatePollAsync(a);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(VoteStatus.Counted, (await ClusterNodes.VoteUntilAnsweredAsync(() => a, new CastVote(poll, [1 + (i % 2)], "v" + i, null))).Status);
        }

        var b = await _cluster.StartNodeAsync("b", engines.Postgres.ConnectionString);
        await ClusterNodes.StopNodeAsync(a); // final snapshots of every partition it held, then its leases go
        var partition = b.PartitionOf(poll);
        await Eventually.WaitUntilAsync(() => b.OwnedPartitions.Count == _cluster.Partitions, Timeout);

        Assert.Equal(0, b.ReplayedEventsOf(partition));
        var outcome = await ClusterNodes.VoteUntilAnsweredAsync(() => b, new CastVote(poll, [1], "v0", null));
        Assert.Equal(RejectionKind.AlreadyVoted, outcome.Rejection?.Kind); // the ballots came back with the snapshot
        Assert.Equal(20, (await ClusterNodes.ResultsAsync(b, poll))!.TotalVotes);
    }

    [Fact]
    public async Task Votes_forwarded_during_hand_overs_are_answered_by_an_owner_or_at_once_never_by_the_forward_timeout()
    {
        var a = await _cluster.StartNodeAsync("a");
        var b = await _cluster.StartNodeAsync("b");
        await Eventually.WaitUntilAsync(() => a.OwnedPartitions.Count > 0 && b.OwnedPartitions.Count > 0, Timeout);
        var polls = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            polls.Add(await ClusterNodes.CreatePollAsync(b));
        }

        // Votes through b all along (a's partitions' votes forwarded to a) while a leaves cleanly and c joins, twice:
        // every command that reaches an owner as it hands a partition over must be answered, if only "no owner, retry".
        var timedOut = 0;
        var counted = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var vote = new CastVote(polls[(w + n) % polls.Count], [1], $"w{w}-{n}", $"k{w}-{n}");
                using var deadline = new CancellationTokenSource(Timeout);
                while (true)
                {
                    var outcome = await b.CastVoteAsync(vote).AsTask().WaitAsync(Timeout);
                    if (outcome.Rejection?.Detail.Contains("did not answer", StringComparison.Ordinal) == true)
                    {
                        Interlocked.Increment(ref timedOut); // the sender waited out ForwardTimeout
                    }

                    if (outcome.Rejection is not { Kind: RejectionKind.Unavailable or RejectionKind.Overloaded })
                    {
                        Assert.Equal(VoteStatus.Counted, outcome.Status);
                        Interlocked.Increment(ref counted);
                        break;
                    }

                    await Task.Delay(20, deadline.Token);
                }
            }
        })).ToArray();

        for (var round = 0; round < 2; round++)
        {
            await Eventually.WaitUntilAsync(() => Volatile.Read(ref counted) > (round + 1) * 300, Timeout);
            await ClusterNodes.StopNodeAsync(a); // a hands its partitions over while b forwards to it
            await Eventually.WaitUntilAsync(() => b.OwnedPartitions.Count == _cluster.Partitions, Timeout);
            a = await _cluster.StartNodeAsync("a" + round); // and takes some back
            await Eventually.WaitUntilAsync(() => a.OwnedPartitions.Count > 0, Timeout);
        }

        await Eventually.WaitUntilAsync(() => Volatile.Read(ref counted) > 900, Timeout);
        await stop.CancelAsync();
        await Task.WhenAll(load).WaitAsync(Timeout);
        Assert.Equal(0, timedOut);
        long total = 0;
        foreach (var poll in polls)
        {
            total += (await ClusterNodes.ResultsAsync(b, poll))!.TotalVotes;
        }

        Assert.Equal(counted, total); // each counted once, retries (same keys) included
    }

    [Fact]
    public async Task The_largest_batch_a_client_may_send_is_answered_whole_when_its_poll_is_owned_by_another_node()
    {
        var a = await _cluster.StartNodeAsync("a");
        var b = await _cluster.StartNodeAsync("b");
        await Eventually.WaitUntilAsync(() => a.OwnedPartitions.Count == _cluster.Partitions / 2 && b.OwnedPartitions.Count == _cluster.Partitions / 2, Timeout);
        string poll;
        do
        {
            poll = await ClusterNodes.CreatePollAsync(a);
        }
        while (!b.OwnedPartitions.Contains(a.PartitionOf(poll)));

        // 10,000 ballots (the server's most) on one poll with the longest ids: one share, forwarded from a to b.
        var votes = Enumerable.Range(0, 10_000)
            .Select(i => new CastVote(poll, [1 + (i % 2)], i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + new string('v', 122), i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + new string('k', 122)))
            .ToArray();
        var outcome = await a.CastVotesAsync(votes).WaitAsync(Timeout);

        Assert.True(outcome.Value is not null, outcome.Rejection?.Detail);
        Assert.All(outcome.Value!, o => Assert.Equal(VoteStatus.Counted, o.Status));
        Assert.Equal(10_000, (await ClusterNodes.ResultsAsync(a, poll))!.TotalVotes);
    }
}
