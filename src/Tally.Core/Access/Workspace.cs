namespace Tally.Access;

/// <summary>A team's space: it owns polls, API keys and an audit log, and says which tokens and origins it trusts.</summary>
public sealed record Workspace(string Id, string Name, DateTimeOffset CreatedAt, WorkspaceSettings Settings);
