using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Server.Access;

/// <summary>What a read is for: the poll's definition, its results, or a live stream of them.</summary>
internal enum Reading
{
    Poll,
    Results,
    Watch,
}

/// <summary>A read that was let through: the results as of now, and whether this reader may see their counts.</summary>
internal sealed record ReadGrant(PollResults Results, bool CountsVisible);

/// <summary>
/// The one way to read a poll, for every transport and stream (HTTP, SSE, WebSocket subscribe, gRPC Watch): the id
/// checked for shape, the poll found, the reader's rights, and only then, for a stream, the poll followed
/// (<see cref="ITallyEngine.WatchAsync"/>: a cluster node subscribes to its live updates). A <see cref="PollAccess.Private"/> poll needs a read-scoped credential of its workspace, one of
/// its JWTs, or a watch token for it; anyone else is told it does not exist (a key of the same workspace without the
/// scope: 403). Then its <see cref="ResultsVisibility"/> decides whether the counts are shown, which readers with
/// <c>polls:read</c> always see.
/// </summary>
internal sealed class ReadAdmission(ITallyEngine engine, VoterIdentities voters, OriginPolicy origins)
{
    public async ValueTask<Outcome<ReadGrant>> ReadAsync(Visitor visitor, string pollId, Reading reading, CancellationToken cancellationToken)
    {
        if (!PollRules.IsPollId(pollId))
        {
            return PollRules.UnknownPoll(pollId);
        }

        // The definition first (a cluster node keeps definitions): rights are checked before anything is followed.
        var found = await engine.FindPollAsync(pollId, cancellationToken).ConfigureAwait(false);
        if (found.Value is not { } poll)
        {
            return found.Rejection!.Kind == RejectionKind.UnknownPoll ? PollRules.UnknownPoll(pollId) : found.Rejection;
        }

        var (refused, reader) = await RightsAsync(visitor, poll, cancellationToken).ConfigureAwait(false);
        if (refused is not null)
        {
            return refused;
        }

        var results = await engine.GetResultsAsync(pollId, cancellationToken).ConfigureAwait(false);
        if (results.Value is not { } current)
        {
            return results.Rejection!.Kind == RejectionKind.UnknownPoll ? PollRules.UnknownPoll(pollId) : results.Rejection;
        }

        var visible = reader || await CountsVisibleAsync(current, visitor, cancellationToken).ConfigureAwait(false);
        if (!visible && reading != Reading.Poll)
        {
            return new Rejection(RejectionKind.ResultsHidden, Hidden(current));
        }

        if (reading == Reading.Watch && (await engine.WatchAsync(pollId, cancellationToken).ConfigureAwait(false)).Rejection is { } unfollowed)
        {
            return unfollowed; // a cluster partition without an owner: retry
        }

        return new ReadGrant(current, visible);
    }

    /// <summary>
    /// Checks again that <paramref name="visitor"/> may still watch the poll (after access changed: a key revoked, a
    /// workspace's settings replaced): null when it may, else the refusal that should end its stream. Reads what this
    /// node already holds for a followed poll, so rechecking many streams costs no round trips.
    /// </summary>
    public async ValueTask<Rejection?> RecheckAsync(Visitor visitor, string pollId, CancellationToken cancellationToken)
    {
        var found = await engine.FindPollAsync(pollId, cancellationToken).ConfigureAwait(false);
        if (found.Value is not { } poll)
        {
            return found.Rejection!.Kind == RejectionKind.UnknownPoll ? found.Rejection : null; // unavailable: keep streaming
        }

        var (refused, reader) = await RightsAsync(visitor, poll, cancellationToken).ConfigureAwait(false);
        if (refused is not null || reader || poll.Results == ResultsVisibility.Live)
        {
            return refused;
        }

        var results = engine.Catalog.FindResults(pollId);
        if (results is null)
        {
            var fetched = await engine.GetResultsAsync(pollId, cancellationToken).ConfigureAwait(false);
            if (fetched.Value is null)
            {
                return null;
            }

            results = fetched.Value;
        }

        return await CountsVisibleAsync(results, visitor, cancellationToken).ConfigureAwait(false) ? null : new Rejection(RejectionKind.ResultsHidden, Hidden(results));
    }

    /// <summary>Whether the caller may read the poll at all (its workspace, its origin, a private poll's rights), and whether it is one of the workspace's readers (who see hidden results).</summary>
    private async ValueTask<(Rejection? Refused, bool Reader)> RightsAsync(Visitor visitor, PollDefinition poll, CancellationToken cancellationToken)
    {
        var caller = visitor.Caller;
        if (caller.IsOfAnother(poll.Workspace))
        {
            return (PollRules.UnknownPoll(poll.Id), false);
        }

        if (await origins.CheckAsync(poll, visitor.CrossOrigin, cancellationToken).ConfigureAwait(false) is { } foreign)
        {
            return (foreign, false);
        }

        var reader = caller.Has(poll.Workspace, Scopes.PollsRead) && caller.Covers(poll.Id);
        if (poll.Access == PollAccess.Private && !reader)
        {
            if (caller.Kind is CallerKind.WorkspaceToken or CallerKind.WatchToken && caller.Workspace == poll.Workspace)
            {
                if (!caller.Covers(poll.Id))
                {
                    return (new Rejection(RejectionKind.Forbidden, "This token is for another poll."), false);
                }
            }
            else if (caller.Workspace == poll.Workspace)
            {
                return (new Rejection(RejectionKind.Forbidden, $"Poll {poll.Id} is private: reading it needs the polls:read scope."), false);
            }
            else
            {
                return (PollRules.UnknownPoll(poll.Id), false); // nobody outside the workspace learns that it exists
            }
        }

        return (null, reader);
    }

    private async ValueTask<bool> CountsVisibleAsync(PollResults results, Visitor visitor, CancellationToken cancellationToken)
    {
        var poll = results.Poll;
        switch (poll.Results)
        {
            case ResultsVisibility.Live:
                return true;
            case ResultsVisibility.Never:
                return false;
            case ResultsVisibility.AfterClose:
                return results.Status == PollStatus.Closed;
            default:
                if (results.Status == PollStatus.Closed)
                {
                    return true;
                }

                if (await voters.ReaderAsync(poll, visitor, cancellationToken).ConfigureAwait(false) is not { } voter)
                {
                    return false;
                }

                var ballot = await engine.FindBallotAsync(poll.Id, voter, cancellationToken).ConfigureAwait(false);
                return ballot.Value is { Voted: true };
        }
    }

    private static string Hidden(PollResults results) => results.Poll.Results switch
    {
        ResultsVisibility.AfterClose => $"Poll {results.Poll.Id} shows its results once it is closed.",
        ResultsVisibility.AfterVote => $"Poll {results.Poll.Id} shows its results to those who voted on it (send the credential you voted with), and to everyone once it is closed.",
        _ => $"Poll {results.Poll.Id} shows its results only to its workspace's readers (polls:read).",
    };
}
