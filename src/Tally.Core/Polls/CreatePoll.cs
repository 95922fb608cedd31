namespace Tally.Polls;

/// <summary>The command to create a poll. Fields are as the client sent them; <see cref="PollRules"/> validates them.</summary>
public sealed record CreatePoll(
    string? Question,
    IReadOnlyList<string?>? Options,
    PollKind Kind = PollKind.Single,
    int? MaxChoices = null,
    DateTimeOffset? ClosesAt = null,
    DedupePolicy Dedupe = DedupePolicy.Voter,
    bool AllowChange = false);
