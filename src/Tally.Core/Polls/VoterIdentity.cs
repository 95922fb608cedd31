namespace Tally.Polls;

/// <summary>How a poll tells its voters apart; dedupe uses only the identity this says, never an unverified string.</summary>
public enum VoterIdentity
{
    /// <summary>
    /// The request's <c>voterId</c> is trusted as it is: only from a caller with the <c>votes:write</c> scope (a backend
    /// voting for its users), or from anyone when the operator turns on <c>Tally:Compatibility:ClientVoterIds</c>.
    /// Polls made before voter identities existed read as this.
    /// </summary>
    Client = 0,

    /// <summary>The voter is the <c>sub</c> of a short-lived voter token (a JWT) the host app signed with its workspace's key.</summary>
    Token = 1,

    /// <summary>The voter is an anonymous id Tally issued (a cookie, or a token for apps without cookies): one vote per issued id.</summary>
    Anonymous = 2,

    /// <summary>The voter is a single-use invite code an admin minted for the poll: each code votes once.</summary>
    Invite = 3,
}
