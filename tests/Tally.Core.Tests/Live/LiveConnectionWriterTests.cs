using Tally.Live;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Core.Tests.Live;

/// <summary>How a connection writes: at once on the offering thread when idle, in order behind a write in progress.</summary>
public sealed class LiveConnectionWriterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_idle_connection_writes_a_message_on_the_offering_thread_before_the_offer_returns()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var connection = new ThreadRecordingConnection(new LiveOptions());
        connection.Add(StandaloneStream.Poll.Id, stream);
        using var stop = new CancellationTokenSource();
        var run = connection.RunAsync(stop.Token);

        stream.Subscribe(connection, since: null); // the snapshot
        stream.OnChanged(StandaloneStream.Results(2, PollStatus.Open, 1, 0));
        Assert.True(stream.Flush()); // the delta

        Assert.Equal([LiveMessageKind.Snapshot, LiveMessageKind.Delta], connection.Written.Select(w => w.Message.Kind));
        Assert.All(connection.Written, w => Assert.Equal(Environment.CurrentManagedThreadId, w.Thread));
        Assert.Equal(2, connection.Flushes); // each run of writes ends with a flush

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Messages_offered_during_a_write_follow_it_in_order()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var connection = new RecordingConnection(new LiveOptions { ConnectionQueueCapacity = 16 });
        connection.Add(StandaloneStream.Poll.Id, stream);
        var run = connection.RunAsync(CancellationToken.None);
        connection.Hold();
        stream.Subscribe(connection, since: null); // the snapshot's write waits at the gate
        for (var seq = 2; seq <= 6; seq++)
        {
            stream.OnChanged(StandaloneStream.Results(seq, PollStatus.Open, seq - 1, 0));
            Assert.True(stream.Flush());
        }

        Assert.Empty(connection.All);
        connection.Release();
        var seqs = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            seqs.Add((await connection.NextAsync()).Seq);
        }

        Assert.Equal([1, 2, 3, 4, 5, 6], seqs);
        Assert.Equal(0, connection.Overflows);
        connection.Complete();
        await run.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Complete_ends_an_idle_connection_and_later_messages_are_dropped()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var connection = new ThreadRecordingConnection(new LiveOptions());
        connection.Add(StandaloneStream.Poll.Id, stream);
        var run = connection.RunAsync(CancellationToken.None);
        connection.Complete();
        await run.WaitAsync(Timeout);

        stream.Subscribe(connection, since: null);
        Assert.Empty(connection.Written);
    }

    [Fact]
    public async Task A_write_that_throws_ends_the_run_with_its_exception_not_the_offering_thread()
    {
        var stream = StandaloneStream.Create(StandaloneStream.Results(1, PollStatus.Open, 0, 0));
        var connection = new ThreadRecordingConnection(new LiveOptions()) { Fail = true };
        connection.Add(StandaloneStream.Poll.Id, stream);
        var run = connection.RunAsync(CancellationToken.None);

        stream.Subscribe(connection, since: null); // must not throw here

        var error = await Assert.ThrowsAsync<IOException>(() => run.WaitAsync(Timeout));
        Assert.Equal("the peer is gone", error.Message);
    }

    private sealed class ThreadRecordingConnection(LiveOptions options) : LiveConnection(options)
    {
        public List<(LiveMessage Message, int Thread)> Written { get; } = [];

        public int Flushes { get; private set; }

        public bool Fail { get; init; }

        protected override ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
        {
            if (Fail)
            {
                throw new IOException("the peer is gone");
            }

            Written.Add((message, Environment.CurrentManagedThreadId));
            return ValueTask.CompletedTask;
        }

        protected override ValueTask FlushAsync(CancellationToken cancellationToken)
        {
            Flushes++;
            return ValueTask.CompletedTask;
        }
    }
}
