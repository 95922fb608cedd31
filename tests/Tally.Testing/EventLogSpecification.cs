using Tally.Events;
using Tally.Storage;
using Xunit;

namespace Tally.Testing;

/// <summary>
/// What every <see cref="IEventLog"/> must do. Each adapter's test class inherits this and says how to
/// make a fresh log and how to reopen the same storage.
/// </summary>
public abstract class EventLogSpecification : IAsyncLifetime
{
    private readonly List<IEventLog> _opened = [];

    /// <summary>A new log over empty storage, not yet opened.</summary>
    protected abstract IEventLog CreateLog();

    /// <summary>A new instance over the storage of the last <see cref="CreateLog"/>, not yet opened; null when the adapter keeps nothing across instances.</summary>
    protected abstract IEventLog? Reopen();

    protected static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(30);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var log in _opened)
        {
            await log.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_new_log_is_empty()
    {
        var log = await OpenAsync(CreateLog());
        Assert.Equal(0, log.CommittedPosition);
        Assert.Empty(await ReadAllAsync(log, 0));
    }

    [Fact]
    public async Task Appends_get_contiguous_positions_from_one_and_read_back_in_order()
    {
        var log = await OpenAsync(CreateLog());
        var first = await log.AppendAsync([TestEvents.Created("p1"), TestEvents.Vote("p1", 2, "a", 1)], default).AsTask().WaitAsync(Timeout);
        var second = await log.AppendAsync([TestEvents.Vote("p1", 3, "b", 2)], default).AsTask().WaitAsync(Timeout);

        Assert.Equal(1, first);
        Assert.Equal(3, second);
        Assert.Equal(3, log.CommittedPosition);
        var all = await ReadAllAsync(log, 0);
        Assert.Equal([1L, 2L, 3L], all.Select(e => e.Position));
        Assert.Equal(TestEvents.Fingerprint(TestEvents.Vote("p1", 3, "b", 2)), TestEvents.Fingerprint(all[2].Event));
        Assert.Equal(TestEvents.Fingerprint(TestEvents.Created("p1")), TestEvents.Fingerprint(all[0].Event));
    }

    [Fact]
    public async Task Reading_after_a_position_skips_what_is_at_or_before_it()
    {
        var log = await OpenAsync(CreateLog());
        await log.AppendAsync([TestEvents.Created("p1"), TestEvents.Vote("p1", 2, "a", 1), TestEvents.Vote("p1", 3, "b", 1)], default);

        var tail = await ReadAllAsync(log, 2);

        Assert.Equal([3L], tail.Select(e => e.Position));
        Assert.Empty(await ReadAllAsync(log, 3));
    }

    [Fact]
    public async Task Concurrent_appends_each_stay_contiguous_and_nothing_is_lost()
    {
        var log = await OpenAsync(CreateLog());
        const int writers = 16, perWriter = 50;
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var firsts = new List<long>();
            await log.AppendAsync([TestEvents.Created("w" + w)], default);
            for (var i = 0; i < perWriter; i++)
            {
                var seq = 2 + (i * 2);
                firsts.Add(await log.AppendAsync([TestEvents.Vote("w" + w, seq, "v" + i, 1), TestEvents.Vote("w" + w, seq + 1, "x" + i, 2)], default));
            }

            return firsts;
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Timeout);

        var all = await ReadAllAsync(log, 0);
        Assert.Equal(writers * (1 + (perWriter * 2)), all.Count);
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.Position));
        foreach (var first in tasks.SelectMany(t => t.Result))
        {
            // The two events of one append sit side by side, in order.
            var a = all[(int)first - 1].Event;
            var b = all[(int)first].Event;
            Assert.Equal(a.PollId, b.PollId);
            Assert.Equal(a.Seq + 1, b.Seq);
        }

        foreach (var poll in all.GroupBy(e => e.Event.PollId))
        {
            Assert.Equal(Enumerable.Range(1, 1 + (perWriter * 2)).Select(i => (long)i), poll.Select(e => e.Event.Seq));
        }
    }

    [Fact]
    public async Task What_was_appended_is_there_after_reopening_and_positions_continue()
    {
        var log = await OpenAsync(CreateLog());
        await log.AppendAsync([TestEvents.Created("p1"), TestEvents.Vote("p1", 2, "a", 1)], default);
        await log.DisposeAsync();
        _opened.Remove(log);

        if (Reopen() is not { } reopened)
        {
            return; // nothing outlives the instance (in-memory log)
        }

        var again = await OpenAsync(reopened);
        Assert.Equal(2, again.CommittedPosition);
        Assert.Equal(3, await again.AppendAsync([TestEvents.Vote("p1", 3, "b", 2)], default));
        Assert.Equal([1L, 2L, 3L], (await ReadAllAsync(again, 0)).Select(e => e.Position));
    }

    [Fact]
    public async Task An_open_log_is_healthy()
    {
        var log = await OpenAsync(CreateLog());
        Assert.True(await log.IsHealthyAsync(default));
    }

    protected async Task<IEventLog> OpenAsync(IEventLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        _opened.Add(log);
        await log.OpenAsync(default).WaitAsync(Timeout);
        return log;
    }

    protected static async Task<List<StoredEvent>> ReadAllAsync(IEventLog log, long after)
    {
        ArgumentNullException.ThrowIfNull(log);
        var list = new List<StoredEvent>();
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (var e in log.ReadAsync(after, cts.Token))
        {
            list.Add(e);
        }

        return list;
    }
}
