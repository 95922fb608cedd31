using Tally.Access;

namespace Tally.Server.Access;

/// <summary>What kind of credential a request came with.</summary>
internal enum CallerKind
{
    /// <summary>No credential.</summary>
    Nobody,

    /// <summary>The operator's root key (<c>TALLY_ADMIN_KEY</c>): every workspace, every scope.</summary>
    Root,

    /// <summary>A workspace's API key.</summary>
    ApiKey,

    /// <summary>A JWT signed by a workspace's issuer: a voter token, or a management token with scopes.</summary>
    WorkspaceToken,

    /// <summary>An anonymous voter id Tally issued (<c>POST /v1/voters</c>).</summary>
    AnonymousVoter,

    /// <summary>A watch token Tally issued for one private poll.</summary>
    WatchToken,
}

/// <summary>
/// Who is calling, once their credential is checked. <see cref="Workspace"/> is null for <see cref="CallerKind.Nobody"/>,
/// <see cref="CallerKind.Root"/> (every workspace) and <see cref="CallerKind.AnonymousVoter"/> (no workspace).
/// </summary>
/// <param name="Actor">Who, for the audit log and logs: <c>root</c>, <c>key:{id}</c>, <c>jwt:{sub}</c>; never a secret.</param>
/// <param name="Subject">The voter this credential speaks for: a JWT's <c>sub</c>, or <c>anon:{id}</c>.</param>
/// <param name="Polls">The polls the credential is limited to (a token's <c>poll</c> claim); null means any.</param>
/// <param name="KeyId">An API key's id, for the per-key rate limit and last-used times.</param>
internal sealed record Caller(
    CallerKind Kind,
    string? Workspace,
    Scopes Scopes,
    string Actor,
    string? Subject = null,
    IReadOnlyList<string>? Polls = null,
    string? KeyId = null)
{
    public static Caller Nobody { get; } = new(CallerKind.Nobody, null, Scopes.None, "anonymous");

    public static Caller Root { get; } = new(CallerKind.Root, null, ScopeNames.Expand(Scopes.Admin), "root");

    /// <summary>True when the credential speaks for <paramref name="workspace"/> (root speaks for all).</summary>
    public bool IsOf(string workspace) => Kind == CallerKind.Root || Workspace == workspace;

    /// <summary>True when the credential is of a workspace, but another one than <paramref name="workspace"/>: such a caller is told the poll does not exist.</summary>
    public bool IsOfAnother(string workspace) => Workspace is not null && Workspace != workspace;

    /// <summary>True when the credential may act on <paramref name="pollId"/> (no poll limit, or the poll is in it).</summary>
    /// <remarks>A credential for an event covers its questions (whose ids extend the event's, <see cref="Tally.Polls.EventIds"/>).</remarks>
    public bool Covers(string pollId) =>
        Polls is null || Polls.Contains(pollId, StringComparer.Ordinal)
        || (pollId.Length > Tally.Polls.EventIds.RoutingLength && Polls.Contains(pollId[..Tally.Polls.EventIds.RoutingLength], StringComparer.Ordinal));

    /// <summary>True when, in <paramref name="workspace"/>, the credential has <paramref name="scope"/>.</summary>
    public bool Has(string workspace, Scopes scope) => IsOf(workspace) && (Scopes & scope) == scope;
}
