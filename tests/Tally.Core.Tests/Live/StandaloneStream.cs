using Tally.Live;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Core.Tests.Live;

/// <summary>A poll stream with no hub or engine behind it, for tests that drive it and its connections by hand.</summary>
internal static class StandaloneStream
{
    public static readonly PollDefinition Poll = new(
        "p1", "Which one?", PollKind.Single, 1, [new PollOption(1, "A"), new PollOption(2, "B")],
        DateTimeOffset.UnixEpoch, null, DedupePolicy.None, false);

    public static PollStream Create(PollResults current) =>
        new(current, new PublisherShard(TimeProvider.System, TimeSpan.FromMilliseconds(50), TimeSpan.Zero, ex => throw ex), historyLength: 16);

    public static PollResults Results(long seq, PollStatus status, params long[] counts) =>
        new(Poll, seq, status, null, counts.Sum(), counts);
}
