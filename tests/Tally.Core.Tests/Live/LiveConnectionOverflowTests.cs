using Tally.Live;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Core.Tests.Live;

/// <summary>A connection collapsed to latest state still learns that a poll closed.</summary>
public sealed class LiveConnectionOverflowTests
{

    [Fact]
    public async Task When_the_closed_message_itself_overflows_the_resync_still_ends_with_closed()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var connection = new RecordingConnection(new LiveOptions { ConnectionQueueCapacity = 2 });
        connection.Add(StandaloneStream.Poll.Id, stream);
        stream.Subscribe(connection, since: null); // queue: snapshot

        stream.OnChanged(StandaloneStream.Results(2, PollStatus.Closed, 1, 0));
        stream.Flush(); // queue: snapshot, delta (full); closed overflows: the queue collapses to latest state
        connection.Complete();
        await connection.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, connection.Overflows);
        Assert.Equal([LiveMessageKind.Snapshot, LiveMessageKind.Closed], connection.Written.Select(m => m.Kind));
        Assert.Equal(PollStatus.Closed, connection.Written[0].Status);
        Assert.Equal(2, connection.Written[1].Seq);
    }

    [Fact]
    public async Task When_the_closed_message_survives_an_overflow_it_is_written_once()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var connection = new RecordingConnection(new LiveOptions { ConnectionQueueCapacity = 2 });
        connection.Add(StandaloneStream.Poll.Id, stream);
        stream.Subscribe(connection, since: null); // queue: snapshot
        stream.OnChanged(StandaloneStream.Results(2, PollStatus.Open, 1, 0));
        stream.Flush(); // queue: snapshot, delta (full)

        stream.OnChanged(StandaloneStream.Results(3, PollStatus.Closed, 1, 0));
        stream.Flush(); // its delta overflows (the queue collapses), then closed is queued behind the marker
        connection.Complete();
        await connection.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([LiveMessageKind.Snapshot, LiveMessageKind.Closed], connection.Written.Select(m => m.Kind));
        Assert.Equal(3, connection.Written[0].Seq);
    }

    private sealed class RecordingConnection(LiveOptions options) : LiveConnection(options)
    {
        public List<LiveMessage> Written { get; } = [];

        protected override ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
        {
            Written.Add(message);
            return ValueTask.CompletedTask;
        }
    }
}
