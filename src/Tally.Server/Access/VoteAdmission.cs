using Tally.Engine;
using Tally.Metrics;
using Tally.Polls;
using Tally.Server.Contracts;
using Tally.Server.Limits;

namespace Tally.Server.Access;

/// <summary>
/// The one way a vote gets in, whatever the transport (HTTP, WebSocket, gRPC): the poll's id checked for shape, the
/// poll found, the caller's credential checked against its workspace, the voter identified as the poll's
/// <see cref="VoterIdentity"/> says, the rate limits (the caller's bucket and the voter's, <see cref="VoteLimits"/>), then the engine. Transports map their wire format to a
/// <see cref="Ballot"/> and the outcome back; every rule is here once. The caller was authenticated before
/// (<see cref="Authenticator"/>), once per request or connection.
/// </summary>
internal sealed class VoteAdmission(ITallyEngine engine, VoterIdentities voters, OriginPolicy origins, VoteLimits limits, TallyMetrics metrics, AccessDirectory directory)
{
    /// <summary>Admits and casts one ballot; the outcome is durable unless it is a rejection.</summary>
    public async ValueTask<VoteOutcome> CastAsync(Visitor visitor, Ballot ballot, CancellationToken cancellationToken)
    {
        var (vote, workspace, rejection) = await AdmitAsync(visitor, ballot, cancellationToken).ConfigureAwait(false);
        if (rejection is not null)
        {
            metrics.RecordRejected(rejection.Kind);
            return VoteOutcome.Rejected(rejection);
        }

        if (await limits.CheckVotesAsync(visitor, [(workspace!, vote!.VoterId)], cancellationToken).ConfigureAwait(false) is { } limited)
        {
            return VoteOutcome.Rejected(limited);
        }

        return await engine.CastVoteAsync(vote!).ConfigureAwait(false);
    }

    /// <summary>
    /// Admits each ballot of a batch as <see cref="CastAsync"/> does (a refused one is answered in its place, the
    /// others go on), then casts the admitted ones together. The rate limits count every admitted vote (each voter's
    /// bucket its own votes), and a batch past one of them is refused whole. Otherwise the batch is refused whole only
    /// as <see cref="BatchOutcome"/> says, over every ballot's answer: when none could be taken and each was refused
    /// overloaded or unavailable.
    /// </summary>
    public async Task<Outcome<VoteOutcome[]>> CastBatchAsync(Visitor visitor, IReadOnlyList<Ballot?> ballots, CancellationToken cancellationToken)
    {
        var results = new VoteOutcome[ballots.Count];
        var admitted = new List<CastVote>(ballots.Count);
        var voters = new List<(string Workspace, string? VoterId)>(ballots.Count);
        var at = new List<int>(ballots.Count);
        var polls = new Dictionary<string, Outcome<PollDefinition>>(StringComparer.Ordinal);
        for (var i = 0; i < ballots.Count; i++)
        {
            if (ballots[i] is not { } ballot)
            {
                results[i] = Refused(new Rejection(RejectionKind.Invalid, $"votes[{i}] needs pollId and optionIds (or value, on a rating or nps poll; text, on a text poll; text or upvote, on a Q&A poll)."));
                continue;
            }

            var (vote, workspace, rejection) = await AdmitAsync(visitor, ballot, cancellationToken, polls).ConfigureAwait(false);
            if (rejection is not null)
            {
                results[i] = Refused(rejection);
                continue;
            }

            admitted.Add(vote!);
            voters.Add((workspace!, vote!.VoterId));
            at.Add(i);
        }

        if (admitted.Count == 0)
        {
            return BatchOutcome.From(results);
        }

        if (await limits.CheckVotesAsync(visitor, voters, cancellationToken).ConfigureAwait(false) is { } limited)
        {
            return limited; // nothing of the batch was taken
        }

        var cast = await engine.CastVotesAsync(admitted).ConfigureAwait(false);
        for (var k = 0; k < at.Count; k++)
        {
            results[at[k]] = cast.Value is { } answers ? answers[k] : VoteOutcome.Rejected(cast.Rejection!);
        }

        return BatchOutcome.From(results);
    }

    private VoteOutcome Refused(Rejection rejection)
    {
        metrics.RecordRejected(rejection.Kind);
        return VoteOutcome.Rejected(rejection);
    }

    /// <summary>The vote to cast and its poll's workspace, or why not.</summary>
    private async ValueTask<(CastVote? Vote, string? Workspace, Rejection? Rejection)> AdmitAsync(
        Visitor visitor, Ballot ballot, CancellationToken cancellationToken, Dictionary<string, Outcome<PollDefinition>>? polls = null)
    {
        if (!PollRules.IsPollId(ballot.PollId))
        {
            return (null, null, PollRules.UnknownPoll(ballot.PollId));
        }

        if (polls is null || !polls.TryGetValue(ballot.PollId, out var found))
        {
            found = await engine.FindPollAsync(ballot.PollId, cancellationToken).ConfigureAwait(false);
            polls?.TryAdd(ballot.PollId, found);
        }

        if (found.Value is not { } poll)
        {
            return (null, null, found.Rejection!.Kind == RejectionKind.UnknownPoll ? PollRules.UnknownPoll(ballot.PollId) : found.Rejection);
        }

        if (visitor.Caller.IsOfAnother(poll.Workspace))
        {
            return (null, null, PollRules.UnknownPoll(poll.Id)); // a credential never reveals another workspace's polls
        }

        if (await origins.CheckAsync(poll, visitor.CrossOrigin, cancellationToken).ConfigureAwait(false) is { } foreign)
        {
            return (null, null, foreign);
        }

        int[]? optionIds;
        string[]? terms = null;
        long? upvote = null;
        if (poll.Questions is not null)
        {
            if (ballot.OptionIds is { Length: > 0 } || ballot.Value is not null)
            {
                return (null, null, new Rejection(RejectionKind.Invalid, "A Q&A poll takes text (a new question) or upvote (a question's vote id), not optionIds or value."));
            }

            if (ballot.Upvote is { } voteId && (upvote = Events.VoteIds.SeqOf(poll.Id, voteId)) is null)
            {
                return (null, null, new Rejection(RejectionKind.Invalid, $"upvote is the vote id of one of poll {poll.Id}'s questions ({poll.Id}-<seq>), not \"{PollRules.Clip(voteId)}\"."));
            }

            optionIds = []; // text or upvote, exactly one: the engine's rule (QuestionRules.CheckBallot)
        }
        else if (ballot.Upvote is not null)
        {
            return (null, null, new Rejection(RejectionKind.Invalid, "upvote is for Q&A polls (kind \"questions\")."));
        }
        else if (poll.Text is { } text)
        {
            if (ballot.OptionIds is not null || ballot.Value is not null || ballot.Text is null)
            {
                return (null, null, new Rejection(RejectionKind.Invalid, "A text poll takes text (the answer), not optionIds or value."));
            }

            // The terms are worked out here, once, with the workspace's block list as it is now; the engine keeps them in the log.
            var blocked = BlockedSet((await directory.FindWorkspaceAsync(poll.Workspace, cancellationToken).ConfigureAwait(false))?.Settings.BlockedTerms);
            optionIds = [];
            terms = ballot.Text.Length <= text.MaxLength + 64 ? TextTerms.Of(ballot.Text.Trim(), text.Language, blocked) : [];
        }
        else if (ballot.Text is not null)
        {
            return (null, null, new Rejection(RejectionKind.Invalid, "text is for text polls; this poll takes optionIds" + (poll.Kind.IsScale() ? " or value." : ".")));
        }
        else if (PollRules.ResolveChoice(poll, ballot.OptionIds, ballot.Value, out var unclear) is not { } chosen)
        {
            return (null, null, unclear);
        }
        else
        {
            optionIds = chosen;
        }

        var (voterId, refused) = await voters.ResolveAsync(poll, visitor, ballot, cancellationToken).ConfigureAwait(false);
        return refused is not null
            ? (null, null, refused)
            : (new CastVote(poll.Id, optionIds, voterId, ballot.IdempotencyKey, ballot.Text, terms, upvote), poll.Workspace, null);
    }

    /// <summary>
    /// The block list as a set, made once per list: the directory keeps a workspace (and so its list) until it changes,
    /// so up to 1,000 blocked terms cost each answer's terms a hash lookup, not a walk of the list.
    /// </summary>
    private static IReadOnlyCollection<string>? BlockedSet(IReadOnlyList<string>? terms) => terms is not { Count: > 0 }
        ? null
        : BlockedSets.GetValue(terms, static list => System.Collections.Frozen.FrozenSet.ToFrozenSet(list, StringComparer.Ordinal));

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IReadOnlyList<string>, System.Collections.Frozen.FrozenSet<string>> BlockedSets = new();
}
