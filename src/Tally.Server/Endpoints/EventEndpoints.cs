using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;

namespace Tally.Server.Endpoints;

/// <summary>
/// <c>/v1/events</c>: live sessions. A manager creates an event with its questions (each a poll), and presents it (start, show
/// question N, reveal, lock, end); participants find it by its join code, join under a name, answer the live question with
/// the ordinary vote API, and follow the event's stream (<c>/v1/events/{id}/events</c>, as any poll's).
/// </summary>
internal static class EventEndpoints
{
    private const int CreateAttempts = 4;

    public static void MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        var events = app.MapGroup("/v1/events").WithTags("Events");
        events.MapPost("/", CreateAsync).RequireScope(Scopes.PollsManage)
            .DocumentJsonBody<CreateEventRequest>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Create an event with its questions in the caller's workspace (polls:manage); the answer carries its join code");
        foreach (var (verb, action, summary) in new[]
        {
            ("start", EventAction.Start, "Start the event: participants who joined may answer the questions it shows (polls:manage)"),
            ("reveal", EventAction.Reveal, "Lock the live question and reveal its results (polls:manage)"),
            ("lock", EventAction.Lock, "Lock the live question's answers (polls:manage)"),
            ("end", EventAction.End, "End the event, locking the live question (polls:manage)"),
        })
        {
            events.MapPost("/{id}/" + verb, (string id, HttpContext context, ITallyEngine engine, AuditTrail audit) => ControlAsync(id, action, 0, context, engine, audit))
                .RequireScope(Scopes.PollsManage)
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict)
                .WithName("Event" + char.ToUpperInvariant(verb[0]) + verb[1..])
                .WithSummary(summary);
        }

        events.MapPost("/{id}/questions/{number}/show", ShowAsync).RequireScope(Scopes.PollsManage)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Make question N (1-based) the live one, opening it and starting a quiz question's clock (polls:manage)");
        events.MapGet("/{id}", GetAsync).Takes(AccessKind.Read)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Read an event: its questions, the live one, and the top of its leaderboard");
        events.MapPost("/{id}/join", JoinAsync).Takes(AccessKind.Vote)
            .DocumentJsonBody<JoinEventRequest>()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Join an event under a name (with its passcode, if it has one), as the event's voter identity says who you are");
        events.MapGet("/{id}/leaderboard", LeadersAsync).Takes(AccessKind.Read)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("The event's leaderboard, leader first (?limit= 1 to 1000, default 10)");
        events.MapGet("/{id}/leaderboard/me", StandingAsync).Takes(AccessKind.Vote)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Your score, rank and streak in the event");
        app.MapGet("/v1/join/{code}", LookUpAsync).WithTags("Events")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("The event a join code names (rate-limited per client address)");
    }

    private static async Task<Results<Created<EventResponse>, ProblemHttpResult>> CreateAsync(
        HttpRequest request, ITallyEngine engine, AuditTrail audit, IOptions<TallyServerOptions> options, IOptions<CompatibilityOptions> compatibility, JoinCodes codes)
    {
        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.CreateEventRequest, options.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var workspace = ManagementFilter.WorkspaceOf(request.HttpContext);
        var defaultIdentity = compatibility.Value.ClientVoterIds ? VoterIdentity.Client : VoterIdentity.Anonymous;
        if (body!.ToCommand(workspace, defaultIdentity, JoinCodes.Draw(), out var errors) is not { } command)
        {
            return Problems.Validation("The event is not valid: " + string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")), errors);
        }

        Outcome<PollResults> outcome = default;
        for (var attempt = 0; attempt < CreateAttempts; attempt++)
        {
            // A drawn code whose event id is taken (another live event has it) is drawn again.
            var drawn = attempt == 0 ? command : command with { JoinCode = JoinCodes.Draw() };
            outcome = await engine.CreateEventAsync(drawn, codes.EventIdOf(drawn.JoinCode));
            if (outcome.Rejection is not { Kind: RejectionKind.IdTaken })
            {
                break;
            }
        }

        if (outcome.Rejection is { } rejection)
        {
            return Problems.From(rejection);
        }

        var ev = outcome.Value!;
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), workspace, "event.created", ev.Poll.Id, ContractMapping.Clip(ev.Poll.Question));
        return TypedResults.Created($"/v1/events/{ev.Poll.Id}", ev.ToEventResponse(showCode: true));
    }

    private static Task<Results<Ok<EventResponse>, ProblemHttpResult>> ShowAsync(string id, string number, HttpContext context, ITallyEngine engine, AuditTrail audit) =>
        int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var question) && question is > 0 and <= EventRules.MaxQuestions
            ? ControlAsync(id, EventAction.Show, question, context, engine, audit)
            : Task.FromResult<Results<Ok<EventResponse>, ProblemHttpResult>>(Problems.Validation($"The question number is a whole number from 1 to the event's count of questions (at most {EventRules.MaxQuestions})."));

    private static async Task<Results<Ok<EventResponse>, ProblemHttpResult>> ControlAsync(string id, EventAction action, int question, HttpContext context, ITallyEngine engine, AuditTrail audit)
    {
        var managed = await ManagedEventAsync(context, engine, id);
        if (managed.Value is not { } ev)
        {
            return HttpAccess.Refuse(context.Response, managed.Rejection!);
        }

        var outcome = await engine.ControlEventAsync(ev.Id, action, question);
        if (outcome.Rejection is { } rejection)
        {
            return Problems.From(rejection);
        }

        var detail = action == EventAction.Show ? question.ToString(CultureInfo.InvariantCulture) : null;
        await audit.RecordAsync(ManagementFilter.CallerOf(context), ev.Workspace, "event." + action.ToString().ToLowerInvariant(), ev.Id, detail);
        return TypedResults.Ok(outcome.Value!.ToEventResponse(showCode: true));
    }

    private static async Task<Results<Ok<EventResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, ReadAdmission reads)
    {
        var grant = await ReadEventAsync(context, reads, id);
        if (grant.Value is not { } read)
        {
            return HttpAccess.Refuse(context.Response, grant.Rejection!);
        }

        var visitor = await HttpAccess.VisitorAsync(context); // authenticated once per request: the same caller the read had
        var manager = visitor.Value?.Caller.Has(read.Results.Poll.Workspace, Scopes.PollsManage) == true;
        return TypedResults.Ok(read.Results.ToEventResponse(showCode: manager));
    }

    private static async Task<Results<Ok<JoinLookupResponse>, ProblemHttpResult>> LookUpAsync(string code, HttpContext context, ITallyEngine engine, JoinCodes codes, Limits.VoteLimits limits)
    {
        if (await limits.CheckJoinAsync(context.Connection.RemoteIpAddress, null, context.RequestAborted) is { } limited)
        {
            return HttpAccess.Refuse(context.Response, limited);
        }

        var normalized = EventRules.NormalizeJoinCode(code);
        if (normalized is null || !EventRules.IsJoinCode(normalized))
        {
            return NoSuchCode();
        }

        var found = await engine.FindPollAsync(codes.EventIdOf(normalized), context.RequestAborted);
        if (found.Value is not { } ev || !JoinCodes.IsCodeOf(ev, normalized))
        {
            return found.Rejection is { Kind: not RejectionKind.UnknownPoll } unavailable ? Problems.From(unavailable) : NoSuchCode();
        }

        var results = await engine.GetResultsAsync(ev.Id, context.RequestAborted);
        var status = results.Value is { } r ? ContractMapping.EventStatus(r.Status) : "draft";
        return TypedResults.Ok(new JoinLookupResponse(ev.Id, ev.Question, status, ev.Event!.HasPasscode, ev.Options.Count, ContractMapping.Name(ev.VoterIdentity)));
    }

    private static async Task<Results<Ok<StandingResponse>, ProblemHttpResult>> JoinAsync(
        string id, HttpRequest request, ITallyEngine engine, VoterIdentities voters, Limits.VoteLimits limits, IOptions<TallyServerOptions> options)
    {
        var context = request.HttpContext;
        if (await limits.CheckJoinAsync(context.Connection.RemoteIpAddress, null, context.RequestAborted) is { } limited)
        {
            return HttpAccess.Refuse(context.Response, limited);
        }

        var participant = await ParticipantAsync(context, engine, voters, id, () => JsonBody.ReadAsync(request, TallyJsonContext.Default.JoinEventRequest, options.Value.MaxBodyBytes));
        if (participant.Problem is { } refused)
        {
            return refused;
        }

        var (ev, voterId, join) = (participant.Event!, participant.VoterId!, participant.Body!);
        if (EventRules.CheckName(join.Name, out var name) is { } badName)
        {
            return Problems.Validation(badName);
        }

        if (!Passcodes.Verify(ev.Event!, join.Passcode))
        {
            return Problems.From(new Rejection(RejectionKind.Forbidden, join.Passcode is null ? $"Event {ev.Id} takes a passcode to join." : "That is not the event's passcode."));
        }

        var standing = await engine.JoinEventAsync(ev.Id, voterId, name!);
        if (standing.Value is not { } entry)
        {
            return Problems.From(standing.Rejection!);
        }

        return TypedResults.Ok(ToStandingResponse(entry)); // joining again answers the same standing
    }

    private static async Task<Results<Ok<StandingResponse>, ProblemHttpResult>> StandingAsync(string id, HttpContext context, ITallyEngine engine, VoterIdentities voters)
    {
        var participant = await ParticipantAsync(context, engine, voters, id, () => ValueTask.FromResult<(JoinEventRequest?, ProblemHttpResult?)>((new JoinEventRequest { VoterId = context.Request.Query["voterId"] }, null)));
        if (participant.Problem is { } refused)
        {
            return refused;
        }

        var standing = await engine.FindStandingAsync(participant.Event!.Id, participant.VoterId!, context.RequestAborted);
        return standing.Value is { } entry ? TypedResults.Ok(ToStandingResponse(entry)) : Problems.From(standing.Rejection!);
    }

    private static async Task<Results<Ok<LeadersResponse>, ProblemHttpResult>> LeadersAsync(string id, HttpContext context, ReadAdmission reads, ITallyEngine engine, [FromQuery] string? limit)
    {
        var size = EventRules.DefaultLeaderboardSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > EventRules.MaxLeaderboardQuery))
        {
            return Problems.InvalidQuery($"limit is a whole number from 1 to {EventRules.MaxLeaderboardQuery}.");
        }

        var grant = await ReadEventAsync(context, reads, id);
        if (grant.Value is not { } read)
        {
            return HttpAccess.Refuse(context.Response, grant.Rejection!);
        }

        var leaders = await engine.GetLeadersAsync(read.Results.Poll.Id, size, context.RequestAborted);
        return leaders.Value is { } items
            ? TypedResults.Ok(new LeadersResponse(read.Results.Poll.Id, read.Results.Event!.Participants, [.. items.Select(ToStandingResponse)]))
            : Problems.From(leaders.Rejection!);
    }

    /// <summary>The event and who the caller is in it (as its voter identity says), with the body read by <paramref name="readBody"/>; or the problem.</summary>
    private static async Task<(PollDefinition? Event, string? VoterId, JoinEventRequest? Body, ProblemHttpResult? Problem)> ParticipantAsync(
        HttpContext context, ITallyEngine engine, VoterIdentities voters, string id, Func<ValueTask<(JoinEventRequest? Value, ProblemHttpResult? Problem)>> readBody)
    {
        var found = await FindEventAsync(engine, id, context.RequestAborted);
        if (found.Value is not { } ev)
        {
            return (null, null, null, HttpAccess.Refuse(context.Response, found.Rejection!));
        }

        var visitor = await HttpAccess.VisitorAsync(context);
        if (visitor.Rejection is { } unauthenticated)
        {
            return (null, null, null, HttpAccess.Refuse(context.Response, unauthenticated));
        }

        if (visitor.Value!.Caller.IsOfAnother(ev.Workspace))
        {
            return (null, null, null, Problems.From(EventRules.UnknownEvent(id)));
        }

        var (body, problem) = await readBody();
        if (problem is not null)
        {
            return (null, null, null, problem);
        }

        var (voterId, refused) = await voters.ResolveAsync(ev, visitor.Value!, new Ballot(ev.Id, null, body!.VoterId, null, null), context.RequestAborted);
        if (refused is not null)
        {
            return (null, null, null, HttpAccess.Refuse(context.Response, refused));
        }

        if (voterId is null)
        {
            return (null, null, null, Problems.Validation("voterId is required: who is joining, in the host application's ids."));
        }

        if (PollRules.CheckVoterId(voterId, out var normalized) is { } bad)
        {
            return (null, null, null, Problems.Validation(bad));
        }

        return (ev, normalized, body, null);
    }

    private static async ValueTask<Outcome<PollDefinition>> FindEventAsync(ITallyEngine engine, string id, CancellationToken cancellationToken)
    {
        if (!PollRules.IsPollId(id))
        {
            return EventRules.UnknownEvent(id);
        }

        var found = await engine.FindPollAsync(id, cancellationToken);
        return found.Value is { Kind: PollKind.Event } ev ? ev
            : found.Rejection is { Kind: not RejectionKind.UnknownPoll } unavailable ? unavailable
            : EventRules.UnknownEvent(id);
    }

    private static async Task<Outcome<PollDefinition>> ManagedEventAsync(HttpContext context, ITallyEngine engine, string id)
    {
        var managed = await VoterEndpoints.ManagedPollAsync(context, engine, id);
        return managed.Value is { Kind: PollKind.Event } ev ? ev
            : managed.Rejection is { Kind: not RejectionKind.UnknownPoll } unavailable ? unavailable
            : EventRules.UnknownEvent(id);
    }

    private static async ValueTask<Outcome<ReadGrant>> ReadEventAsync(HttpContext context, ReadAdmission reads, string id)
    {
        var visitor = await HttpAccess.VisitorAsync(context);
        if (visitor.Value is not { } known)
        {
            return visitor.Rejection!;
        }

        var grant = await reads.ReadAsync(known, id, Reading.Poll, context.RequestAborted);
        return grant.Value is { Results.Poll.Kind: PollKind.Event } ? grant
            : grant.Rejection is { Kind: not RejectionKind.UnknownPoll } refused ? refused
            : EventRules.UnknownEvent(id);
    }

    private static ProblemHttpResult NoSuchCode() =>
        Problems.From(new Rejection(RejectionKind.UnknownPoll, "No live event has that join code."));

    internal static StandingResponse ToStandingResponse(LeaderboardEntry e) => new(e.Rank, e.Name, e.Score, e.Streak, e.Correct, e.Answered);
}
