using Grpc.Core;
using Tally.Live;
using Tally.Polls;
using Tally.Projections;
using Tally.Server.Transports;
using Tally.Server.Transports.Grpc;
using Tally.V1;
using WireStatus = Tally.V1.PollStatus;

namespace Tally.Server.Tests.Live;

/// <summary>
/// The server's hand-bound methods and pre-encoded updates against the contract: what a client generated
/// from <c>live.proto</c> (this project's <c>Tally.V1</c> types) reads.
/// </summary>
public sealed class GrpcContractTests
{
    private static readonly PollDefinition Poll = new(
        "p1", "Tea or coffee?", PollKind.Single, 1, [new Polls.PollOption(1, "Tea"), new Polls.PollOption(2, "Coffee"), new Polls.PollOption(3, "Neither")],
        DateTimeOffset.UnixEpoch, null, DedupePolicy.None, false);

    [Fact]
    public void The_bound_methods_are_the_ones_the_proto_declares()
    {
        var service = Tally.V1.Live.Descriptor;
        var watch = service.FindMethodByName("Watch");
        var vote = service.FindMethodByName("Vote");

        Assert.Equal(service.FullName, LiveMethods.Watch.ServiceName);
        Assert.Equal(service.FullName, LiveMethods.Vote.ServiceName);
        Assert.Equal(watch.Name, LiveMethods.Watch.Name);
        Assert.Equal(MethodType.ServerStreaming, LiveMethods.Watch.Type);
        Assert.True(watch.IsServerStreaming && !watch.IsClientStreaming);
        Assert.Equal(ResultsUpdate.Descriptor, watch.OutputType);
        Assert.Equal(WatchRequest.Descriptor, watch.InputType);
        Assert.Equal(vote.Name, LiveMethods.Vote.Name);
        Assert.Equal(MethodType.Unary, LiveMethods.Vote.Type);
        Assert.False(vote.IsServerStreaming || vote.IsClientStreaming);
        Assert.Equal(VoteRequest.Descriptor, vote.InputType);
        Assert.Equal(VoteReply.Descriptor, vote.OutputType);
        Assert.Equal(2, service.Methods.Count);
    }

    [Fact]
    public void A_snapshot_carries_every_option_with_text_and_count_the_question_and_watchers()
    {
        var message = LiveMessage.Snapshot(Results(seq: 7, 2, 5, 0), watchers: 3);

        var update = ResultsUpdate.Parser.ParseFrom(GrpcUpdates.Encode(message));

        Assert.True(update.Snapshot);
        Assert.False(update.Closed);
        Assert.Equal("p1", update.PollId);
        Assert.Equal(7, update.Seq);
        Assert.Equal(7, update.TotalVotes);
        Assert.Equal(WireStatus.Open, update.Status);
        Assert.Equal("Tea or coffee?", update.Question);
        Assert.Equal([(1, "Tea"), (2, "Coffee"), (3, "Neither")], update.Options.Select(o => (o.Id, o.Text)));
        Assert.Equal([(1, 2L), (2, 5L), (3, 0L)], update.Counts.Select(c => (c.Id, c.Votes)));
        Assert.Equal(3, update.Watchers);
    }

    [Fact]
    public void A_delta_carries_only_what_changed_and_watchers_only_when_they_changed()
    {
        var delta = LiveMessage.Delta(Results(seq: 9, 3, 5, 0), previousSeq: 7, [new Tally.Live.OptionCount(1, 3)], watchers: null);
        var presence = LiveMessage.Delta(Results(seq: 9, 3, 5, 0), previousSeq: 9, [], watchers: 4);

        var update = ResultsUpdate.Parser.ParseFrom(GrpcUpdates.Encode(delta));
        var presenceUpdate = ResultsUpdate.Parser.ParseFrom(GrpcUpdates.Encode(presence));

        Assert.False(update.Snapshot);
        Assert.False(update.Closed);
        Assert.Equal(9, update.Seq);
        Assert.Equal(8, update.TotalVotes);
        Assert.Equal([(1, 3L)], update.Counts.Select(c => (c.Id, c.Votes)));
        Assert.Empty(update.Options);
        Assert.Equal("", update.Question);
        Assert.False(update.HasWatchers);
        Assert.Empty(presenceUpdate.Counts);
        Assert.True(presenceUpdate.HasWatchers);
        Assert.Equal(4, presenceUpdate.Watchers);
    }

    [Fact]
    public void The_closed_update_carries_the_final_counts_of_every_option()
    {
        var message = LiveMessage.Closed(Results(seq: 12, 4, 6, 1) with { Status = Polls.PollStatus.Closed });

        var update = ResultsUpdate.Parser.ParseFrom(GrpcUpdates.Encode(message));

        Assert.True(update.Closed);
        Assert.False(update.Snapshot);
        Assert.Equal(WireStatus.Closed, update.Status);
        Assert.Equal([(1, 4L), (2, 6L), (3, 1L)], update.Counts.Select(c => (c.Id, c.Votes)));
        Assert.Empty(update.Options);
    }

    [Fact]
    public void A_message_is_serialized_once_and_its_bytes_shared_by_every_watcher()
    {
        var message = LiveMessage.Snapshot(Results(seq: 3, 1, 1, 0), watchers: 2);

        var first = message.GetEncoded(LiveFormats.Grpc, GrpcUpdates.Encode);
        var second = message.GetEncoded(LiveFormats.Grpc, GrpcUpdates.Encode);

        Assert.Same(first, second);
    }

    private static PollResults Results(long seq, params long[] counts) =>
        new(Poll, seq, Polls.PollStatus.Open, null, counts.Sum(), counts);
}
