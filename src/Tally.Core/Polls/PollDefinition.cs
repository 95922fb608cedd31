namespace Tally.Polls;

/// <summary>The immutable definition of a poll, as recorded by <see cref="Events.PollCreated"/>.</summary>
public sealed record PollDefinition(
    string Id,
    string Question,
    PollKind Kind,
    int MaxChoices,
    IReadOnlyList<PollOption> Options,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosesAt,
    DedupePolicy Dedupe,
    bool AllowChange)
{
    /// <summary>True when <paramref name="optionId"/> names one of this poll's options.</summary>
    public bool HasOption(int optionId) => optionId >= 1 && optionId <= Options.Count;
}
