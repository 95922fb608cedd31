using System.Text;
using Tally.Engine;
using Tally.Events;
using Tally.Polls;
using Tally.Testing;

namespace Tally.Core.Tests.Events;

/// <summary>The lifecycle's stored form (the schedule in a definition, the new events, older forms still read) and its reversal when a batch fails.</summary>
public sealed class LifecycleCodecTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000);

    [Fact]
    public void A_definition_keeps_its_schedule_and_the_status_events_round_trip()
    {
        var definition = TestEvents.Definition("p1") with { OpensAt = At.AddHours(1), StartsAsDraft = true, MaxBallots = 500, AllowReopen = true };

        var decoded = ((PollCreated)EventCodec.Decode(EventCodec.Encode(new PollCreated(definition)))).Definition;

        Assert.Equal((At.AddHours(1), true, 500L, true), (decoded.OpensAt!.Value, decoded.StartsAsDraft, decoded.MaxBallots!.Value, decoded.AllowReopen));
        foreach (PollEvent e in new PollEvent[] { new PollOpened("p1", 2, At, OpenReason.Scheduled), new PollPaused("p1", 3, At), new PollResumed("p1", 4, At), new PollClosed("p1", 5, At, CloseReason.Limit), new PollReopened("p1", 6, At) })
        {
            Assert.Equal(e, EventCodec.Decode(EventCodec.Encode(e)));
        }
    }

    [Fact]
    public void A_version_3_definition_reads_as_a_poll_that_opened_at_once_without_a_limit()
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            EventCodec.WriteDefinition(w, TestEvents.Definition("p1") with { OpensAt = At, StartsAsDraft = true, MaxBallots = 3 }, version: 3);
        }

        using var r = new BinaryReader(new MemoryStream(buffer.ToArray()), Encoding.UTF8);
        var read = EventCodec.ReadDefinition(r, version: 3);

        Assert.Equal((null, false, null), (read.OpensAt, read.StartsAsDraft, read.MaxBallots));
        Assert.Equal(r.BaseStream.Length, r.BaseStream.Position);
    }

    [Fact]
    public void A_failed_batch_of_two_erasures_and_a_close_reopen_close_is_reversed_exactly()
    {
        var definition = TestEvents.Definition("p1", allowChange: false) with { AllowReopen = true };
        var state = new PollState(definition, createdPosition: 1);
        state.Decide(new CastVote("p1", [1], "ann", "k-ann"), At, out _);
        state.Decide(new CastVote("p1", [2], "bob", "k-bob"), At, out _);
        state.ForgetUndo(); // that much is durable

        // One batch that will fail: two erasures, a close, a reopening, a close.
        var batch = new List<PollEvent> { state.Erase("ann", At)!, state.Erase("bob", At)!, state.Close(At.AddSeconds(1), CloseReason.Admin) };
        Assert.Null(state.Transition(PollTransition.Reopen, At.AddSeconds(2), out var reopened));
        batch.Add(reopened!);
        batch.Add(state.Close(At.AddSeconds(3), CloseReason.Admin));
        Assert.Equal((0L, PollStatus.Closed), (state.TotalVotes, state.Status));

        for (var i = batch.Count - 1; i >= 0; i--)
        {
            state.Unapply(batch[i]);
        }

        Assert.Equal((2L, PollStatus.Open, (DateTimeOffset?)null, 3L), (state.TotalVotes, state.Status, state.ClosedAt, state.Seq));
        Assert.Equal([1], state.BallotOf("ann")!);
        Assert.Equal([2], state.BallotOf("bob")!);
        Assert.Equal(2, state.IdempotencyKeyCount);
    }

    [Fact]
    public void A_paused_polls_state_survives_a_snapshot()
    {
        var state = new PollState(TestEvents.Definition("p1"), createdPosition: 1);
        Assert.Null(state.Transition(PollTransition.Pause, At, out var paused));
        Assert.IsType<PollPaused>(paused);
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            state.Write(w);
        }

        using var r = new BinaryReader(new MemoryStream(buffer.ToArray()), Encoding.UTF8);
        var copy = PollState.Read(r, SnapshotFormat.Version);

        Assert.Equal((PollStatus.Paused, 2L), (copy.Status, copy.Seq));
        state.Unapply(paused!);
        Assert.Equal(PollStatus.Open, state.Status);
    }
}
