using Tally.Live;
using Tally.Polls;

namespace Tally.Core.Tests.Live;

/// <summary>A subscription writes a message only when it continues what its watcher has.</summary>
public sealed class LiveSubscriptionTests
{
    private static LiveSubscription Create() =>
        new(StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0)));

    private static LiveMessage Snapshot(long seq) => LiveMessage.Snapshot(StandaloneStream.Results(seq, PollStatus.Open, seq, 0), 1);

    private static LiveMessage Delta(long previous, long seq, PollStatus status = PollStatus.Open) =>
        LiveMessage.Delta(StandaloneStream.Results(seq, status, seq, 0), previous, previous == seq ? [] : [new OptionCount(1, seq)], null);

    private static LiveMessage Presence(long seq) => LiveMessage.Delta(StandaloneStream.Results(seq, PollStatus.Open, seq, 0), seq, [], 2);

    private static LiveMessage Closed(long seq) => LiveMessage.Closed(StandaloneStream.Results(seq, PollStatus.Closed, seq, 0));

    private static LiveAdmission Offer(LiveSubscription subscription, LiveMessage message)
    {
        var admission = subscription.Admit(message);
        if (admission == LiveAdmission.Write)
        {
            subscription.Wrote(message);
        }

        return admission;
    }

    [Fact]
    public void Nothing_is_written_before_the_start_marker()
    {
        var subscription = Create();
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Delta(4, 5)));
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Snapshot(5)));
    }

    [Fact]
    public void Started_for_a_snapshot_no_delta_goes_before_it_and_the_deltas_after_it_continue_it()
    {
        var subscription = Create();
        subscription.Start(continuesFrom: null);
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Delta(4, 5))); // a fan-out that began before the subscribe
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Closed(5)));
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Snapshot(5)));
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Delta(4, 5))); // the snapshot holds it
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Presence(5)));
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Delta(5, 7)));
        Assert.Equal(LiveAdmission.Gap, subscription.Admit(Delta(8, 9))); // 7 -> 8 is missing
    }

    [Fact]
    public void Started_from_a_seq_the_catch_up_continues_it_and_a_delta_that_overtook_it_is_a_gap()
    {
        var subscription = Create();
        subscription.Start(continuesFrom: 3);
        Assert.Equal(LiveAdmission.Gap, subscription.Admit(Delta(4, 5))); // a fan-out's delta ahead of the catch-up
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Delta(2, 4))); // a conflated delta that covers 3 -> 4
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Delta(4, 5)));
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Delta(4, 5)));
    }

    [Fact]
    public void Closed_is_written_once_and_only_after_the_delta_it_ends()
    {
        var subscription = Create();
        subscription.Start(continuesFrom: 3);
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Closed(4)));
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Delta(3, 4, PollStatus.Closed)));
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Closed(4)));
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Closed(4)));
    }

    [Fact]
    public void A_resync_snapshot_starts_a_subscription_whose_marker_was_dropped_and_a_late_marker_never_goes_back()
    {
        var subscription = Create();
        subscription.Wrote(Snapshot(8)); // the collapse dropped the marker; the resync wrote a fresh snapshot
        subscription.Start(continuesFrom: 5); // a marker still queued behind it
        Assert.Equal(LiveAdmission.Skip, Offer(subscription, Delta(5, 6)));
        Assert.Equal(LiveAdmission.Write, Offer(subscription, Delta(8, 9)));
    }
}
