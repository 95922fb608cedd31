namespace Tally.Access;

/// <summary>What a credential may do inside its workspace.</summary>
[Flags]
public enum Scopes
{
    None = 0,

    /// <summary><c>polls:read</c>: read private polls, hidden results and streams.</summary>
    PollsRead = 1,

    /// <summary><c>polls:manage</c>: create, list and close polls, mint invite codes; implies <see cref="PollsRead"/>.</summary>
    PollsManage = 2,

    /// <summary><c>votes:write</c>: vote on behalf of users, the request's <c>voterId</c> trusted (server to server).</summary>
    VotesWrite = 4,

    /// <summary><c>admin</c>: everything in the workspace, and its keys, settings and audit log.</summary>
    Admin = 8,
}
