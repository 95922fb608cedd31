using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Engine;
using Tally.Polls;

namespace Tally.Server.Access;

/// <summary>
/// Who a ballot counts as, by the poll's <see cref="VoterIdentity"/> — the only place that decides it, for every
/// transport. The engine then dedupes that identity in the poll's single writer.
/// </summary>
internal sealed class VoterIdentities(TokenValidator tokens, InviteCodes invites, IOptions<CompatibilityOptions> compatibility)
{
    public const string VoterCookie = "tally_voter";

    /// <summary>The voter id to count <paramref name="ballot"/> as on <paramref name="poll"/> (null: none, on polls that need none), or why it cannot be counted.</summary>
    public async ValueTask<(string? VoterId, Rejection? Rejection)> ResolveAsync(PollDefinition poll, Visitor visitor, Ballot ballot, CancellationToken cancellationToken)
    {
        var caller = visitor.Caller;
        var trusted = caller.Has(poll.Workspace, Scopes.VotesWrite);
        switch (poll.VoterIdentity)
        {
            case VoterIdentity.Client:
                if (ballot.InviteCode is not null)
                {
                    return Refuse(RejectionKind.Invalid, $"Poll {poll.Id} takes no invite codes.");
                }

                if (trusted || compatibility.Value.ClientVoterIds)
                {
                    return (ballot.VoterId, null);
                }

                return Missing(caller, $"Poll {poll.Id} counts the voterId its caller sends, so it takes votes only from a backend credential with the votes:write scope of its workspace.");

            case VoterIdentity.Token:
                if (ballot.InviteCode is not null)
                {
                    return Refuse(RejectionKind.Invalid, $"Poll {poll.Id} takes no invite codes.");
                }

                if (trusted && ballot.VoterId is not null)
                {
                    return (ballot.VoterId, null); // a backend voting for one of its users, whose ids are the tokens' subjects
                }

                if (caller is { Kind: CallerKind.WorkspaceToken, Subject: { } subject })
                {
                    if (!caller.Covers(poll.Id))
                    {
                        return Refuse(RejectionKind.Forbidden, "This voter token is for another poll.");
                    }

                    return ballot.VoterId is not null && ballot.VoterId != subject
                        ? Refuse(RejectionKind.Invalid, $"voterId is not taken on poll {poll.Id}: the voter is the voter token's subject. Leave voterId out.")
                        : (subject, null);
                }

                return Missing(caller, $"Poll {poll.Id} takes votes with a voter token signed by its workspace's issuer (Authorization: Bearer <token>, its sub is the voter).");

            case VoterIdentity.Anonymous:
                if (ballot.VoterId is not null || ballot.InviteCode is not null)
                {
                    return Refuse(RejectionKind.Invalid, $"Poll {poll.Id} counts one vote per anonymous voter id that Tally issued; leave voterId and inviteCode out.");
                }

                if (caller.Kind == CallerKind.AnonymousVoter)
                {
                    return (caller.Subject, null);
                }

                if (visitor.VoterCookie is { Length: > 0 } cookie)
                {
                    var fromCookie = await tokens.ValidateAsync(cookie, cancellationToken).ConfigureAwait(false);
                    if (fromCookie.Value is { Kind: CallerKind.AnonymousVoter } voter)
                    {
                        return (voter.Subject, null);
                    }

                    if (fromCookie.Rejection is { Kind: RejectionKind.Unavailable } unavailable)
                    {
                        return (null, unavailable);
                    }
                }

                return Refuse(RejectionKind.Unauthorized, $"Poll {poll.Id} counts one vote per anonymous voter: get a voter id from POST /v1/voters (a cookie for browsers, or a token to send as Authorization: Bearer <token>).");

            case VoterIdentity.Invite:
                if (ballot.VoterId is not null)
                {
                    return Refuse(RejectionKind.Invalid, $"voterId is not taken on poll {poll.Id}: the voter is the invite code. Leave voterId out.");
                }

                if (ballot.InviteCode is null)
                {
                    return Refuse(RejectionKind.Unauthorized, $"Poll {poll.Id} takes votes with an invite code (inviteCode).");
                }

                return invites.VoterOf(poll.Id, ballot.InviteCode) is { } invited
                    ? (invited, null)
                    : Refuse(RejectionKind.Forbidden, $"That is not an invite code of poll {poll.Id}.");

            default:
                return Refuse(RejectionKind.Invalid, $"Poll {poll.Id} has a voter identity this server does not know.");
        }
    }

    /// <summary>The reader's voter id on <paramref name="poll"/> for <c>afterVote</c> results: a voter token's subject, or an anonymous id (token or cookie).</summary>
    public async ValueTask<string?> ReaderAsync(PollDefinition poll, Visitor visitor, CancellationToken cancellationToken)
    {
        var caller = visitor.Caller;
        switch (poll.VoterIdentity)
        {
            case VoterIdentity.Token when caller is { Kind: CallerKind.WorkspaceToken, Subject: { } subject } && caller.Workspace == poll.Workspace && caller.Covers(poll.Id):
                return subject;
            case VoterIdentity.Anonymous when caller.Kind == CallerKind.AnonymousVoter:
                return caller.Subject;
            case VoterIdentity.Anonymous when visitor.VoterCookie is { Length: > 0 } cookie:
                return (await tokens.ValidateAsync(cookie, cancellationToken).ConfigureAwait(false)).Value is { Kind: CallerKind.AnonymousVoter } voter ? voter.Subject : null;
            default:
                return null;
        }
    }

    /// <summary>No credential (or only an anonymous voter's) is 401; a workspace credential without the right is 403.</summary>
    private static (string?, Rejection?) Missing(Caller caller, string detail) =>
        Refuse(caller.Kind is CallerKind.Nobody or CallerKind.AnonymousVoter ? RejectionKind.Unauthorized : RejectionKind.Forbidden, detail);

    private static (string?, Rejection?) Refuse(RejectionKind kind, string detail) => (null, new Rejection(kind, detail));
}
