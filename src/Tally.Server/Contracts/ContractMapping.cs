using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Tally.Server.Http;

namespace Tally.Server.Contracts;

/// <summary>Domain → wire shapes.</summary>
internal static class ContractMapping
{
    /// <param name="countsVisible">False leaves <c>totalVotes</c> out: the reader may not see the results yet.</param>
    public static PollResponse ToPollResponse(this PollResults r, bool countsVisible = true)
    {
        var p = r.Poll;
        var scale = p.Kind.IsScale();
        var options = new OptionResponse[p.Options.Count];
        for (var i = 0; i < options.Length; i++)
        {
            options[i] = new OptionResponse(p.Options[i].Id, p.Options[i].Text, scale ? p.ValueOf(p.Options[i].Id) : null);
        }

        return new PollResponse(
            p.Id, p.Question, Name(p.Kind), p.MaxChoices, options, Name(r.Status, p), p.CreatedAt, p.ClosesAt, r.ClosedAt,
            p.Dedupe == DedupePolicy.Voter ? "voter" : "none", p.AllowChange, countsVisible ? r.TotalVotes : null,
            p.Workspace, Name(p.VoterIdentity), p.Access == PollAccess.Private ? "private" : "public", Name(p.Results),
            scale ? new ScaleResponse(p.ScaleMin, p.ScaleMax) : null, p.OpensAt, p.MaxBallots, p.AllowReopen ? true : null);
    }

    public static ResultsResponse ToResultsResponse(this PollResults r)
    {
        var p = r.Poll;
        var scale = p.Kind.IsScale();
        var options = new OptionResultResponse[p.Options.Count];
        for (var i = 0; i < options.Length; i++)
        {
            options[i] = new OptionResultResponse(p.Options[i].Id, p.Options[i].Text, r.Counts[i], scale ? p.ValueOf(p.Options[i].Id) : null);
        }

        return new ResultsResponse(p.Id, r.Seq, Name(r.Status, p), r.TotalVotes, options, ToSummaryResponse(ScaleSummary.Of(r)), ToRankingResponse(r.Ranking));
    }

    public static RankingResponse? ToRankingResponse(RankingResults? ranking) =>
        ranking is null ? null : new RankingResponse(
            ranking.Ballots,
            "borda",
            new IrvResponse(
                ranking.Irv.Winner,
                [.. ranking.Irv.Rounds.Select((round, i) => new IrvRoundResponse(
                    i + 1,
                    [.. round.Votes.Select(v => new OptionVotesResponse(v.Id, v.Votes))],
                    round.Exhausted,
                    round.Eliminated,
                    round.Eliminated is null ? null : [.. round.Transfers.Select(v => new OptionVotesResponse(v.Id, v.Votes))],
                    round.Eliminated is null ? null : round.TransferredToExhausted))]));

    public static SummaryResponse? ToSummaryResponse(ScaleSummary? s) =>
        s is null ? null : new SummaryResponse(
            s.Count, s.Sum, s.Mean, s.Nps is { } nps ? new NpsResponse(nps.Promoters, nps.Passives, nps.Detractors, nps.Score) : null);

    public static VoteResponse ToVoteResponse(this VoteOutcome o) => new(o.VoteId!, o.Seq, Name(o.Status));

    public static BatchVoteResult ToBatchResult(this VoteOutcome o)
    {
        if (o.Rejection is not { } rejection)
        {
            return new BatchVoteResult(Name(o.Status), o.VoteId, o.Seq, null);
        }

        var (_, slug, title) = Problems.Describe(rejection.Kind);
        var status = rejection.Kind == RejectionKind.AlreadyVoted ? "duplicate" : "rejected";
        return new BatchVoteResult(status, null, null, new BatchError(Problems.Prefix + slug, title, rejection.Detail));
    }

    public static string Name(VoteStatus status) => status switch
    {
        VoteStatus.Counted => "counted",
        VoteStatus.Changed => "changed",
        _ => "rejected",
    };

    /// <summary><c>open</c>, <c>closed</c>, <c>paused</c>, <c>draft</c>, or <c>scheduled</c> (a draft with an <c>opensAt</c>).</summary>
    public static string Name(PollStatus status, PollDefinition poll) => status switch
    {
        PollStatus.Open => "open",
        PollStatus.Closed => "closed",
        PollStatus.Paused => "paused",
        _ => poll.OpensAt is null ? "draft" : "scheduled",
    };

    public static string Name(PollKind kind) => kind switch
    {
        PollKind.Multiple => "multiple",
        PollKind.Rating => "rating",
        PollKind.Nps => "nps",
        PollKind.Ranking => "ranking",
        _ => "single",
    };

    public static string Name(VoterIdentity identity) => identity switch
    {
        VoterIdentity.Token => "token",
        VoterIdentity.Anonymous => "anonymous",
        VoterIdentity.Invite => "invite",
        _ => "client",
    };

    public static string Name(ResultsVisibility visibility) => visibility switch
    {
        ResultsVisibility.AfterVote => "afterVote",
        ResultsVisibility.AfterClose => "afterClose",
        ResultsVisibility.Never => "never",
        _ => "live",
    };

    /// <summary>Maps the request to the command for <paramref name="workspace"/>; unknown enum words become field errors.</summary>
    /// <param name="defaultIdentity">The voter identity of a poll whose request names none.</param>
    public static CreatePoll? ToCommand(this CreatePollRequest request, string workspace, VoterIdentity defaultIdentity, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var kind = PollKind.Single;
        switch (request.Kind)
        {
            case null or "single":
                break;
            case "multiple":
                kind = PollKind.Multiple;
                break;
            case "rating":
                kind = PollKind.Rating;
                break;
            case "nps":
                kind = PollKind.Nps;
                break;
            case "ranking":
                kind = PollKind.Ranking;
                break;
            default:
                errors["kind"] = [$"kind is \"single\", \"multiple\", \"rating\", \"nps\" or \"ranking\", not \"{Clip(request.Kind)}\"."];
                break;
        }

        if (request.Scale is not null && !kind.IsScale() && !errors.ContainsKey("kind"))
        {
            errors["scale"] = ["A scale is for rating polls only."];
        }

        var dedupe = DedupePolicy.Voter;
        switch (request.Dedupe)
        {
            case null or "voter":
                break;
            case "none":
                dedupe = DedupePolicy.None;
                break;
            default:
                errors["dedupe"] = [$"dedupe is \"voter\" or \"none\", not \"{Clip(request.Dedupe)}\"."];
                break;
        }

        var identity = request.VoterIdentity switch
        {
            null => defaultIdentity,
            "anonymous" => VoterIdentity.Anonymous,
            "token" => VoterIdentity.Token,
            "invite" => VoterIdentity.Invite,
            "client" => VoterIdentity.Client,
            _ => Error(errors, "voterIdentity", $"voterIdentity is \"anonymous\", \"token\", \"invite\" or \"client\", not \"{Clip(request.VoterIdentity)}\".", defaultIdentity),
        };
        var access = request.Access switch
        {
            null or "public" => PollAccess.Public,
            "private" => PollAccess.Private,
            _ => Error(errors, "access", $"access is \"public\" or \"private\", not \"{Clip(request.Access)}\".", PollAccess.Public),
        };
        var visibility = request.ResultsVisibility switch
        {
            null or "live" => ResultsVisibility.Live,
            "afterVote" => ResultsVisibility.AfterVote,
            "afterClose" => ResultsVisibility.AfterClose,
            "never" => ResultsVisibility.Never,
            _ => Error(errors, "resultsVisibility", $"resultsVisibility is \"live\", \"afterVote\", \"afterClose\" or \"never\", not \"{Clip(request.ResultsVisibility)}\".", ResultsVisibility.Live),
        };

        return errors.Count > 0
            ? null
            : new CreatePoll(
                request.Question, request.Options, kind, request.MaxChoices, request.ClosesAt, dedupe, request.AllowChange ?? false, workspace, identity, access, visibility,
                request.Scale?.Min, request.Scale?.Max, request.OpensAt, request.Draft ?? false, request.MaxBallots, request.AllowReopen ?? false);
    }

    private static T Error<T>(Dictionary<string, string[]> errors, string field, string message, T fallback)
    {
        errors[field] = [message];
        return fallback;
    }

    /// <summary>Echoes at most 40 characters of client input in an error (<see cref="PollRules.Clip"/>).</summary>
    public static string Clip(string value) => PollRules.Clip(value);
}
