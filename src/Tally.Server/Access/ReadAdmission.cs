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
/// checked for shape, the poll found (for a stream, followed: <see cref="ITallyEngine.WatchAsync"/>), then the
/// reader's rights. A <see cref="PollAccess.Private"/> poll needs a read-scoped credential of its workspace, one of
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

        Outcome<PollResults> found;
        if (reading == Reading.Watch)
        {
            var watched = await engine.WatchAsync(pollId, cancellationToken).ConfigureAwait(false);
            found = watched.Rejection is { } refused ? refused
                : engine.Catalog.FindResults(pollId) is { } current ? current
                : await engine.GetResultsAsync(pollId, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            found = await engine.GetResultsAsync(pollId, cancellationToken).ConfigureAwait(false);
        }

        if (found.Value is not { } results)
        {
            return found.Rejection!.Kind == RejectionKind.UnknownPoll ? PollRules.UnknownPoll(pollId) : found.Rejection;
        }

        var poll = results.Poll;
        var caller = visitor.Caller;
        if (caller.IsOfAnother(poll.Workspace))
        {
            return PollRules.UnknownPoll(pollId);
        }

        if (await origins.CheckAsync(poll, visitor.CrossOrigin, cancellationToken).ConfigureAwait(false) is { } foreign)
        {
            return foreign;
        }

        var reader = caller.Has(poll.Workspace, Scopes.PollsRead) && caller.Covers(poll.Id);
        if (poll.Access == PollAccess.Private && !reader)
        {
            if (caller.Kind == CallerKind.WorkspaceToken && caller.Workspace == poll.Workspace)
            {
                if (!caller.Covers(poll.Id))
                {
                    return new Rejection(RejectionKind.Forbidden, "This token is for another poll.");
                }
            }
            else if (caller.Workspace == poll.Workspace)
            {
                return new Rejection(RejectionKind.Forbidden, $"Poll {poll.Id} is private: reading it needs the polls:read scope.");
            }
            else
            {
                return PollRules.UnknownPoll(pollId); // nobody outside the workspace learns that it exists
            }
        }

        var visible = reader || await CountsVisibleAsync(results, visitor, cancellationToken).ConfigureAwait(false);
        if (!visible && reading != Reading.Poll)
        {
            return new Rejection(RejectionKind.ResultsHidden, Hidden(results));
        }

        return new ReadGrant(results, visible);
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
