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
            scale ? new ScaleResponse(p.ScaleMin, p.ScaleMax) : null, p.OpensAt, p.MaxBallots, p.AllowReopen ? true : null,
            p.EventId, ToQuizResponse(r), p.Text is { } text ? new TextSettingsResponse(text.MaxLength, text.Language, text.Moderated) : null,
            p.Questions is { } qa ? new QuestionSettingsResponse(qa.MaxLength, qa.Moderated, qa.MaxQuestionsPerVoter) : null);
    }

    /// <summary>A quiz question's rules and clock; its correct options only once it is closed (before, they would give the answer away).</summary>
    public static QuizResponse? ToQuizResponse(PollResults r) =>
        r.Poll.Quiz is not { } quiz ? null : new QuizResponse(
            quiz.Points,
            (int)quiz.TimeLimit.TotalSeconds,
            r.OpenedAt,
            r.OpenedAt + quiz.TimeLimit,
            r.Status == PollStatus.Closed ? [.. quiz.Correct] : null);

    public static ResultsResponse ToResultsResponse(this PollResults r)
    {
        var p = r.Poll;
        var scale = p.Kind.IsScale();
        var options = new OptionResultResponse[p.Options.Count];
        for (var i = 0; i < options.Length; i++)
        {
            options[i] = new OptionResultResponse(p.Options[i].Id, p.Options[i].Text, r.Counts[i], scale ? p.ValueOf(p.Options[i].Id) : null);
        }

        return new ResultsResponse(p.Id, r.Seq, Name(r.Status, p), r.TotalVotes, options, ToSummaryResponse(ScaleSummary.Of(r)), ToRankingResponse(r.Ranking), ToTextResponse(r.Text), ToQuestionsResponse(r));
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

    public static TextResponse? ToTextResponse(TextResults? t) =>
        t is null ? null : new TextResponse(t.Answers, t.Held, [.. t.Terms.Select(x => new TermResponse(x.Term, x.Count, x.Error))], t.Capacity);

    /// <summary>A Q&amp;A poll's questions, each with its vote id; null on other kinds.</summary>
    public static QuestionsResponse? ToQuestionsResponse(PollResults r) =>
        r.Questions is not { } q ? null : new QuestionsResponse(
            q.Asked, q.Held, [.. q.Items.Select(i => new QuestionItemResponse(Events.VoteIds.Format(r.Poll.Id, i.Seq), i.Text, i.Votes, i.Answered, i.At))]);

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

    /// <summary><c>open</c>, <c>closed</c>, <c>paused</c>, <c>draft</c>, or <c>scheduled</c> (a draft with an <c>opensAt</c>); an event's as <see cref="EventStatus"/> says.</summary>
    public static string Name(PollStatus status, PollDefinition poll) => poll.Kind == PollKind.Event ? EventStatus(status) : status switch
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
        PollKind.Quiz => "quiz",
        PollKind.Event => "event",
        PollKind.Text => "text",
        PollKind.Questions => "questions",
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
            case "quiz":
                kind = PollKind.Quiz;
                break;
            case "text":
                kind = PollKind.Text;
                break;
            case "questions":
                kind = PollKind.Questions;
                break;
            default:
                errors["kind"] = [$"kind is \"single\", \"multiple\", \"rating\", \"nps\", \"ranking\", \"text\", \"questions\" or \"quiz\" (in an event), not \"{Clip(request.Kind)}\"."];
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

        var identity = ParseIdentity(request.VoterIdentity, defaultIdentity, errors);
        var access = ParseAccess(request.Access, errors);
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
                request.Scale?.Min, request.Scale?.Max, request.OpensAt, request.Draft ?? false, request.MaxBallots, request.AllowReopen ?? false,
                request.Correct, request.Points, request.TimeLimitSeconds, null, request.MaxLength, request.Language, request.Moderation ?? false, request.MaxQuestionsPerVoter);
    }

    /// <summary>An event's status: <c>draft</c> (participants may join), <c>live</c>, or <c>ended</c>.</summary>
    public static string EventStatus(PollStatus status) => status switch
    {
        PollStatus.Open => "live",
        PollStatus.Closed => "ended",
        _ => "draft",
    };

    /// <param name="showCode">True for the event's managers: the join code is theirs to show on screen.</param>
    public static EventResponse ToEventResponse(this PollResults r, bool showCode)
    {
        var p = r.Poll;
        var questions = new EventQuestionResponse[p.Options.Count];
        for (var i = 0; i < questions.Length; i++)
        {
            questions[i] = new EventQuestionResponse(i + 1, p.QuestionId(i + 1), p.Options[i].Text);
        }

        var live = ToEventLiveResponse(r)!;
        return new EventResponse(
            p.Id, p.Question, EventStatus(r.Status), r.Seq, p.CreatedAt, showCode ? p.Event!.JoinCode : null, p.Event!.HasPasscode, questions, live.Progress,
            live.Leaderboard, p.Workspace, Name(p.VoterIdentity), p.Access == PollAccess.Private ? "private" : "public");
    }

    /// <summary>An event's live part (its progress and leaderboard), as its stream messages carry it; null on other kinds.</summary>
    public static EventLiveResponse? ToEventLiveResponse(PollResults r) =>
        r.Event is not { } view ? null : new EventLiveResponse(
            new EventProgressResponse(view.Current, view.Current > 0 ? r.Poll.QuestionId(view.Current) : null, view.ShownAt, view.Revealed, view.Round),
            new LeaderboardResponse(view.Participants, [.. view.Leaders.Select(Endpoints.EventEndpoints.ToStandingResponse)]));

    /// <summary>Maps the request to the command for <paramref name="workspace"/>, each question as <c>POST /v1/polls</c> maps its body.</summary>
    public static CreateEvent? ToCommand(this CreateEventRequest request, string workspace, VoterIdentity defaultIdentity, string joinCode, out Dictionary<string, string[]> errors)
    {
        errors = [];
        var questions = new List<CreatePoll?>();
        foreach (var (question, i) in (request.Questions ?? []).Select((q, i) => (q, i)))
        {
            if (question is null)
            {
                questions.Add(null);
                continue;
            }

            if (question.VoterIdentity is not null || question.Access is not null)
            {
                errors[$"questions[{i}].voterIdentity"] = ["A question has its event's voterIdentity and access: set them on the event."];
            }

            questions.Add(question.ToCommand(workspace, defaultIdentity, out var wrong));
            foreach (var (field, messages) in wrong)
            {
                errors[$"questions[{i}].{field}"] = messages;
            }
        }

        var identity = ParseIdentity(request.VoterIdentity, defaultIdentity, errors);
        var access = ParseAccess(request.Access, errors);
        return errors.Count > 0
            ? null
            : new CreateEvent(
                request.Title, request.Questions is null ? null : questions, joinCode, request.Passcode, request.StreakBonus, request.LeaderboardSize, workspace,
                identity, access);
    }

    private static VoterIdentity ParseIdentity(string? value, VoterIdentity defaultIdentity, Dictionary<string, string[]> errors) => value switch
    {
        null => defaultIdentity,
        "anonymous" => VoterIdentity.Anonymous,
        "token" => VoterIdentity.Token,
        "invite" => VoterIdentity.Invite,
        "client" => VoterIdentity.Client,
        _ => Error(errors, "voterIdentity", $"voterIdentity is \"anonymous\", \"token\", \"invite\" or \"client\", not \"{Clip(value)}\".", defaultIdentity),
    };

    private static PollAccess ParseAccess(string? value, Dictionary<string, string[]> errors) => value switch
    {
        null or "public" => PollAccess.Public,
        "private" => PollAccess.Private,
        _ => Error(errors, "access", $"access is \"public\" or \"private\", not \"{Clip(value)}\".", PollAccess.Public),
    };

    private static T Error<T>(Dictionary<string, string[]> errors, string field, string message, T fallback)
    {
        errors[field] = [message];
        return fallback;
    }

    /// <summary>Echoes at most 40 characters of client input in an error (<see cref="PollRules.Clip"/>).</summary>
    public static string Clip(string value) => PollRules.Clip(value);
}
