using Tally.Events;
using Tally.Polls;

namespace Tally.Testing;

/// <summary>Events and definitions for tests.</summary>
public static class TestEvents
{
    public static readonly DateTimeOffset Epoch = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    public static PollDefinition Definition(string pollId, int options = 3, PollKind kind = PollKind.Single, DedupePolicy dedupe = DedupePolicy.Voter, bool allowChange = false, DateTimeOffset? closesAt = null) =>
        new(pollId, "Question " + pollId, kind, kind == PollKind.Single ? 1 : options,
            Enumerable.Range(1, options).Select(i => new PollOption(i, "Option " + i)).ToArray(),
            Epoch, closesAt, dedupe, allowChange);

    public static PollCreated Created(string pollId) => new(Definition(pollId));

    public static VoteCast Vote(string pollId, long seq, string voter, params int[] options) =>
        new(pollId, seq, Epoch.AddSeconds(seq), voter, options, null);

    /// <summary>Events compare by their encoded bytes (records holding lists compare lists by reference).</summary>
    public static string Fingerprint(PollEvent e) => Convert.ToHexString(EventCodec.Encode(e));
}
