using Tally.Engine;
using Tally.Live;
using Tally.Projections;
using Tally.Storage;

namespace Tally.Core.Tests.Engine;

/// <summary>The engine's and the hub's settings name every bad value; the defaults have none.</summary>
public sealed class TallyEngineOptionsTests
{
    [Fact]
    public void Every_bad_engine_setting_is_named_and_the_engine_refuses_them()
    {
        var options = new TallyEngineOptions { Partitions = 257, MaxBatch = 0, SnapshotInterval = TimeSpan.Zero, ExpiryCheckInterval = TimeSpan.FromSeconds(-1), RankingPublishDelay = TimeSpan.FromSeconds(11) };

        Assert.Equal(
            [
                "Tally:Engine:Partitions is from 1 to 256 (it is 257).",
                "Tally:Engine:MaxBatch is at least 1 (it is 0).",
                "Tally:Engine:SnapshotInterval must be more than zero (it is 00:00:00).",
                "Tally:Engine:ExpiryCheckInterval must be more than zero (it is -00:00:01).",
                "Tally:Engine:RankingPublishDelay is from 0 to 10 seconds (it is 00:00:11).",
            ],
            options.Failures());
        var error = Assert.Throws<ArgumentException>(() => new TallyEngine(new InMemoryEventLog(), new InMemorySnapshotStore(), options));
        Assert.Contains("Tally:Engine:MaxBatch", error.Message, StringComparison.Ordinal);
        Assert.Contains("Tally:Engine:ExpiryCheckInterval", error.Message, StringComparison.Ordinal);
        Assert.Empty(new TallyEngineOptions().Failures());
    }

    [Fact]
    public void Every_bad_live_setting_is_named_and_the_hub_refuses_them()
    {
        var options = new LiveOptions { HistoryLength = 0, ConnectionQueueCapacity = 1, SseHeartbeat = TimeSpan.Zero };

        Assert.Equal(
            [
                "Tally:Live:HistoryLength is at least 1 (it is 0).",
                "Tally:Live:ConnectionQueueCapacity is at least 2 (it is 1).",
                "Tally:Live:SseHeartbeat must be more than zero (it is 00:00:00).",
            ],
            options.Failures());
        var error = Assert.Throws<ArgumentException>(() => new LiveHub(new PollCatalog(), options));
        Assert.Contains("Tally:Live:ConnectionQueueCapacity", error.Message, StringComparison.Ordinal);
        Assert.Empty(new LiveOptions().Failures());
    }
}
