namespace Tally.Polls;

/// <summary>The immutable definition of a poll, as recorded by <see cref="Events.PollCreated"/>.</summary>
/// <param name="Workspace">The workspace that owns the poll (its id); polls made before workspaces existed are the default one's.</param>
/// <param name="VoterIdentity">How voters are told apart; dedupe uses only this identity.</param>
/// <param name="Access">Who may read the poll, its results and streams.</param>
/// <param name="Results">When readers without rights in the workspace may see the counts.</param>
public sealed record PollDefinition(
    string Id,
    string Question,
    PollKind Kind,
    int MaxChoices,
    IReadOnlyList<PollOption> Options,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosesAt,
    DedupePolicy Dedupe,
    bool AllowChange,
    string Workspace = Access.WorkspaceIds.Default,
    VoterIdentity VoterIdentity = VoterIdentity.Client,
    PollAccess Access = PollAccess.Public,
    ResultsVisibility Results = ResultsVisibility.Live)
{
    /// <summary>True when <paramref name="optionId"/> names one of this poll's options.</summary>
    public bool HasOption(int optionId) => optionId >= 1 && optionId <= Options.Count;
}
