using System.Text;
using Tally.Engine;
using Tally.Events;
using Tally.Polls;
using Tally.Testing;

namespace Tally.Core.Tests.Engine;

public sealed class PollStateTests
{
    private static readonly DateTimeOffset Now = TestEvents.Epoch.AddMinutes(1);

    private static PollState NewState(DedupePolicy dedupe = DedupePolicy.Voter, bool allowChange = false, PollKind kind = PollKind.Single) =>
        new(TestEvents.Definition("p1", options: 3, kind: kind, dedupe: dedupe, allowChange: allowChange), createdPosition: 1);

    private static VoteOutcome Cast(PollState state, string? voter, int[] options, string? key, out PollEvent? made) =>
        state.Decide(new CastVote("p1", options, voter, key), Now, out made);

    private static VoteOutcome Cast(PollState state, string? voter, params int[] options) => Cast(state, voter, options, null, out _);

    [Fact]
    public void A_first_ballot_is_counted_as_the_next_seq()
    {
        var state = NewState();
        var outcome = Cast(state, "alice", [2], null, out var made);

        Assert.Equal(VoteStatus.Counted, outcome.Status);
        Assert.Equal(2, outcome.Seq);
        Assert.Equal("p1-2", outcome.VoteId);
        Assert.IsType<VoteCast>(made);
        Assert.Equal([0L, 1L, 0L], state.Counts);
        Assert.Equal(1, state.TotalVotes);
        Assert.Equal(2, state.Seq);
    }

    [Fact]
    public void Under_voter_dedupe_a_second_ballot_is_refused_and_changes_nothing()
    {
        var state = NewState();
        Cast(state, "alice", 1);
        var before = Serialize(state);

        var outcome = Cast(state, "alice", [2], null, out var made);

        Assert.Equal(RejectionKind.AlreadyVoted, outcome.Rejection!.Kind);
        Assert.Null(made);
        Assert.Equal(before, Serialize(state));
    }

    [Fact]
    public void With_allow_change_a_second_ballot_moves_the_count_and_keeps_the_vote_id()
    {
        var state = NewState(allowChange: true);
        Cast(state, "alice", 1);

        var outcome = Cast(state, "alice", [3], null, out var made);

        Assert.Equal(VoteStatus.Changed, outcome.Status);
        Assert.Equal("p1-2", outcome.VoteId);
        Assert.Equal(3, outcome.Seq);
        Assert.Equal([1], Assert.IsType<VoteChanged>(made).PreviousOptionIds);
        Assert.Equal([0L, 0L, 1L], state.Counts);
        Assert.Equal(1, state.TotalVotes);
    }

    [Fact]
    public void Without_dedupe_every_ballot_counts()
    {
        var state = NewState(DedupePolicy.None);
        Cast(state, "alice", 1);
        Cast(state, "alice", 1);
        Cast(state, null, 2);
        Assert.Equal([2L, 1L, 0L], state.Counts);
        Assert.Equal(3, state.TotalVotes);
    }

    [Fact]
    public void A_multiple_choice_ballot_counts_once_in_the_total_and_once_per_option()
    {
        var state = NewState(kind: PollKind.Multiple);
        Cast(state, "alice", 1, 3);
        Assert.Equal([1L, 0L, 1L], state.Counts);
        Assert.Equal(1, state.TotalVotes);
    }

    [Fact]
    public void A_retried_idempotency_key_returns_the_first_answer_and_counts_once()
    {
        var state = NewState(DedupePolicy.None);
        var first = Cast(state, "alice", [1], "k1", out _);
        Cast(state, "bob", 2);

        var retry = Cast(state, "alice", [1], "k1", out var made);

        Assert.Null(made);
        Assert.True(retry.Replayed);
        Assert.Equal(first with { Replayed = true }, retry);
        Assert.Equal(2, state.TotalVotes);
    }

    [Fact]
    public void An_idempotency_key_reused_for_another_ballot_is_refused()
    {
        var state = NewState(DedupePolicy.None);
        Cast(state, "alice", [1], "k1", out _);
        Assert.Equal(RejectionKind.IdempotencyKeyReused, Cast(state, "alice", [2], "k1", out _).Rejection!.Kind);
        Assert.Equal(RejectionKind.IdempotencyKeyReused, Cast(state, "bob", [1], "k1", out _).Rejection!.Kind);
    }

    [Fact]
    public void A_retry_after_the_poll_closed_still_gets_its_first_answer()
    {
        var state = NewState();
        var first = Cast(state, "alice", [1], "k1", out _);
        state.Close(Now, CloseReason.Admin);

        Assert.Equal(first.VoteId, Cast(state, "alice", [1], "k1", out _).VoteId);
        Assert.Equal(RejectionKind.PollClosed, Cast(state, "bob", [1], null, out _).Rejection!.Kind);
    }

    [Fact]
    public void A_poll_is_due_once_closes_at_has_passed()
    {
        var state = new PollState(TestEvents.Definition("p1", closesAt: Now), 1);
        Assert.False(state.IsDue(Now.AddTicks(-1)));
        Assert.True(state.IsDue(Now));
        state.Close(Now, CloseReason.Expired);
        Assert.False(state.IsDue(Now));
    }

    [Fact]
    public void Unapplying_events_newest_first_restores_the_exact_state()
    {
        var state = NewState(allowChange: true);
        Cast(state, "alice", 1);
        var before = Serialize(state);
        var made = new List<PollEvent>();
        foreach (var (voter, option, key) in new[] { ("bob", 2, "k1"), ("alice", 3, "k2"), ("carol", 1, (string?)null), ("bob", 1, "k3") })
        {
            Cast(state, voter, [option], key, out var e);
            made.Add(e!);
        }

        made.Add(state.Close(Now, CloseReason.Admin));
        for (var i = made.Count - 1; i >= 0; i--)
        {
            state.Unapply(made[i]);
        }

        Assert.Equal(before, Serialize(state));
    }

    [Fact]
    public void Applying_an_event_out_of_order_throws()
    {
        var state = NewState();
        Assert.Throws<InvalidOperationException>(() => state.Apply(TestEvents.Vote("p1", 3, "a", 1)));
    }

    [Fact]
    public void Replaying_the_same_events_into_a_new_state_gives_the_same_state()
    {
        var state = NewState(allowChange: true);
        var events = new List<PollEvent>();
        for (var i = 0; i < 50; i++)
        {
            Cast(state, "v" + (i % 20), [(i % 3) + 1], "k" + i, out var e);
            events.Add(e!);
        }

        var replayed = NewState(allowChange: true);
        foreach (var e in events)
        {
            replayed.Apply(EventCodec.Decode(EventCodec.Encode(e)));
        }

        Assert.Equal(Serialize(state), Serialize(replayed));
    }

    [Fact]
    public void Write_then_read_round_trips_the_whole_state()
    {
        var state = NewState(allowChange: true);
        Cast(state, "alice", [1], "k1", out _);
        Cast(state, "bob", [2], null, out _);
        Cast(state, "alice", [3], "k2", out _);
        state.Close(Now, CloseReason.Admin);

        var bytes = Serialize(state);
        using var reader = new BinaryReader(new MemoryStream(Convert.FromHexString(bytes)), Encoding.UTF8);
        var copy = PollState.Read(reader, SnapshotFormat.Version);

        Assert.Equal(bytes, Serialize(copy));
        Assert.Equal(2, copy.BallotCount);
        Assert.Equal(2, copy.IdempotencyKeyCount);
    }

    [Fact]
    public void Idempotency_keys_older_than_the_cutoff_are_pruned()
    {
        var state = NewState(DedupePolicy.None);
        state.Decide(new CastVote("p1", [1], null, "old"), Now, out _);
        state.Decide(new CastVote("p1", [1], null, "new"), Now.AddHours(1), out _);

        Assert.Equal(1, state.PruneIdempotencyKeys(Now.AddMinutes(30)));
        Assert.Equal(1, state.IdempotencyKeyCount);
    }

    private static string Serialize(PollState state)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            state.Write(w);
        }

        return Convert.ToHexString(stream.ToArray());
    }

    [Fact]
    public void A_counts_only_state_applies_the_same_events_to_the_same_results_and_keeps_no_ballots_or_keys()
    {
        var full = NewState(allowChange: true);
        var events = new List<PollEvent>();
        foreach (var (voter, option, key) in new[] { ("ann", 1, "k1"), ("bob", 2, "k2"), ("ann", 3, "k3"), ("cy", 3, (string?)null) })
        {
            Cast(full, voter, [option], key, out var made);
            events.Add(made!);
        }

        events.Add(full.Close(Now, CloseReason.Admin));
        var projection = new PollState(full.Definition, createdPosition: 1, countsOnly: true);
        foreach (var e in events)
        {
            projection.Apply(e);
        }

        Assert.Equal(full.ToResults() with { Counts = [] }, projection.ToResults() with { Counts = [] });
        Assert.Equal(full.Counts, projection.Counts);
        Assert.Equal(0, projection.BallotCount);
        Assert.Equal(0, projection.IdempotencyKeyCount);
        Assert.Throws<InvalidOperationException>(() => Cast(projection, "dan", 1));
    }
}
