using Tally.Polls;
using Tally.Projections;

namespace Tally.Core.Tests.Projections;

/// <summary>Page cursors and the creation order a cluster lists polls in.</summary>
public sealed class PollPagingTests
{
    [Fact]
    public void Cursors_round_trip_and_a_cursor_of_the_other_kind_or_garbage_is_refused()
    {
        var at = new DateTimeOffset(2026, 11, 28, 5, 0, 0, 123, TimeSpan.Zero);
        Assert.True(PollCursor.TryReadCreation(PollCursor.FromCreation(at, "abc234"), out var readAt, out var readId));
        Assert.Equal((at, "abc234"), (readAt, readId));
        Assert.True(PollCursor.TryReadPosition(PollCursor.FromPosition(42), out var position));
        Assert.Equal(42, position);

        Assert.False(PollCursor.TryReadPosition(PollCursor.FromCreation(at, "abc234"), out _));
        Assert.False(PollCursor.TryReadCreation(PollCursor.FromPosition(42), out _, out _));
        foreach (var bad in new[] { "", "zzz", "!!!!", new string('A', 200), "cA", PollCursor.FromPosition(0) })
        {
            Assert.False(PollCursor.TryReadPosition(bad, out _), bad);
            Assert.False(PollCursor.TryReadCreation(bad, out _, out _), bad);
        }
    }

    [Fact]
    public void Listing_by_creation_is_newest_first_ties_broken_by_id_and_pages_never_repeat_or_skip()
    {
        var catalog = new PollCatalog();
        var t0 = DateTimeOffset.UnixEpoch;
        string[] ids = ["p1", "p2", "p3", "p4", "p5", "p6", "p7"];
        for (var i = 0; i < ids.Length; i++)
        {
            var poll = new PollDefinition(ids[i], "?", PollKind.Single, 1, [new PollOption(1, "A")], t0.AddMilliseconds(i / 2), null, DedupePolicy.None, false);
            catalog.Publish(new PollResults(poll, 1, PollStatus.Open, null, 0, [0]), ids.Length - i); // positions in another order
        }

        var listed = new List<string>();
        DateTimeOffset? at = null;
        string? after = null;
        while (true)
        {
            var page = catalog.ListByCreation(3, at, after);
            listed.AddRange(page.Select(r => r.Poll.Id));
            if (page.Count < 3)
            {
                break;
            }

            (at, after) = (page[^1].Poll.CreatedAt, page[^1].Poll.Id);
        }

        Assert.Equal(["p7", "p6", "p5", "p4", "p3", "p2", "p1"], listed);
    }
}
