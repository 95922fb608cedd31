using Tally.Engine;
using Tally.Polls;
using Tally.Storage;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

/// <summary>
/// A store that writes an append and then reports it failed (an fsync error after the write) breaks the log contract.
/// The engine must not reuse the seqs it may hold: before its next decision it reads the log back, counts what landed,
/// and answers the vote's retry (same idempotency key) as counted, once. The fault simulation found the loss this prevents
/// (<c>TALLY_SIM_AMBIGUOUS=1</c>, docs/simulation.md).
/// </summary>
public sealed class AmbiguousAppendTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_vote_the_store_kept_although_it_reported_a_failure_is_counted_once_and_its_seq_never_reused()
    {
        var store = new InMemoryEventLog();
        var log = new ControlledEventLog(store);
        var faults = new List<string>();
        await using var engine = new TallyEngine(log, new InMemorySnapshotStore(), new TallyEngineOptions { Partitions = 1 });
        engine.Faulted += (what, ex) => faults.Add($"{what}: {ex.Message}");
        await engine.StartAsync(default).WaitAsync(Timeout);
        var poll = (await engine.CreatePollAsync(new CreatePoll("Q?", ["a", "b"]))).Value!.Poll.Id;

        log.KeepAndFailNext();
        var ambiguous = await engine.CastVoteAsync(new CastVote(poll, [1], "ada", "key-ada")).AsTask().WaitAsync(Timeout);
        Assert.Equal(RejectionKind.Unavailable, ambiguous.Rejection?.Kind); // the store said it failed: the answer cannot be a 2xx

        var next = await engine.CastVoteAsync(new CastVote(poll, [2], "bob", "key-bob")).AsTask().WaitAsync(Timeout);
        Assert.Equal(VoteStatus.Counted, next.Status);
        Assert.Equal(3, next.Seq); // after ada's ballot, which the log holds: seq 2 is not reused

        var retry = await engine.CastVoteAsync(new CastVote(poll, [1], "ada", "key-ada")).AsTask().WaitAsync(Timeout);
        Assert.Equal((VoteStatus.Counted, 2L, true), (retry.Status, retry.Seq, retry.Replayed)); // the retry is told it counted, once

        var results = (await engine.GetResultsAsync(poll, default)).Value!;
        Assert.Equal((2L, 3L), (results.TotalVotes, results.Seq));
        Assert.Equal([1L, 1L], results.Counts);
        Assert.Contains(faults, f => f.Contains("was in the log after all", StringComparison.Ordinal));

        // And a restart on the same log serves the same tally.
        await using var restarted = new TallyEngine(new ControlledEventLog(store), new InMemorySnapshotStore(), new TallyEngineOptions { Partitions = 1 });
        await restarted.StartAsync(default).WaitAsync(Timeout);
        var replayed = (await restarted.GetResultsAsync(poll, default)).Value!;
        Assert.Equal((2L, 3L), (replayed.TotalVotes, replayed.Seq));
    }

    [Fact]
    public async Task A_poll_whose_creation_the_store_kept_although_it_reported_a_failure_is_served_before_any_new_decision()
    {
        var store = new InMemoryEventLog();
        var log = new ControlledEventLog(store);
        await using var engine = new TallyEngine(log, new InMemorySnapshotStore(), new TallyEngineOptions { Partitions = 1 });
        await engine.StartAsync(default).WaitAsync(Timeout);

        log.KeepAndFailNext();
        var failed = await engine.CreatePollAsync(new CreatePoll("Q?", ["a", "b"]), "keptpoll01");
        Assert.Equal(RejectionKind.Unavailable, failed.Rejection?.Kind);

        // The next command reads the log back first: the poll is there, so a second creation with its id is refused, not a second PollCreated.
        var again = await engine.CreatePollAsync(new CreatePoll("Q?", ["a", "b"]), "keptpoll01");
        Assert.Equal(RejectionKind.IdTaken, again.Rejection?.Kind);
        var vote = await engine.CastVoteAsync(new CastVote("keptpoll01", [2], "ada", null)).AsTask().WaitAsync(Timeout);
        Assert.Equal((VoteStatus.Counted, 2L), (vote.Status, vote.Seq));
    }
}
