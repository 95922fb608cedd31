using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Contracts;
using Tally.Server.Hosting;
using Tally.Server.Http;
using Tally.Server.Limits;

namespace Tally.Server.Endpoints;

/// <summary>
/// Credentials for voters and readers: anonymous voter ids (<c>POST /v1/voters</c>), a poll's single-use invite
/// codes, and watch tokens for a private poll.
/// </summary>
internal static class VoterEndpoints
{
    public static void MapVoterEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/voters", IssueAnonymousAsync)
            .WithTags("Voters")
            .Produces<VoterResponse>(StatusCodes.Status201Created)
            .Produces<VoterResponse>()
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Get an anonymous voter id: a cookie (tally_voter) and a token; one vote per id on anonymous polls");
        app.MapPost("/v1/polls/{id}/invites", MintInvitesAsync).RequireScope(Scopes.PollsManage)
            .WithTags("Polls")
            .DocumentJsonBody<MintInvitesRequest>()
            .Produces<InvitesResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Mint single-use invite codes for an invite poll; they are shown once");
        app.MapPost("/v1/polls/{id}/watch-tokens", IssueWatchTokenAsync).RequireScope(Scopes.PollsRead)
            .WithTags("Polls")
            .Produces<WatchTokenResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Issue a short-lived token that lets its holder read and watch one poll (for private polls)");
    }

    private static async Task<Results<Created<VoterResponse>, Ok<VoterResponse>, ProblemHttpResult>> IssueAnonymousAsync(
        HttpContext context, TallyTokens tokens, TokenValidator validator, VoteLimits limits)
    {
        // A browser that has an id keeps it: asking again is not a new voter.
        if (HttpAccess.VoterCookieOf(context.Request) is { } cookie
            && (await validator.ValidateAsync(cookie, context.RequestAborted)).Value is { Kind: CallerKind.AnonymousVoter })
        {
            var known = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(cookie);
            return TypedResults.Ok(new VoterResponse(cookie, new DateTimeOffset(known.ValidTo, TimeSpan.Zero)));
        }

        if (await limits.CheckNewVoterAsync(context.Connection.RemoteIpAddress, new RateLimitReport(context.Response), context.RequestAborted) is { } limited)
        {
            return HttpAccess.Refuse(context.Response, limited); // 429 + Retry-After
        }

        var (token, _, expires) = tokens.IssueAnonymous();
        context.Response.Cookies.Append(VoterIdentities.VoterCookie, token, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            Path = "/",
            Expires = expires,
            IsEssential = true,
        });
        return TypedResults.Created((string?)null, new VoterResponse(token, expires));
    }

    private static async Task<Results<Created<InvitesResponse>, ProblemHttpResult>> MintInvitesAsync(
        string id, HttpRequest request, ITallyEngine engine, InviteCodes invites, AuditTrail audit, IOptions<TallyServerOptions> server, IOptions<AccessOptions> access)
    {
        var managed = await ManagedPollAsync(request.HttpContext, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(request.HttpContext.Response, managed.Rejection!);
        }

        var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.MintInvitesRequest, server.Value.MaxBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var max = access.Value.MaxInvitesPerRequest;
        if (body!.Count is not { } count || count < 1 || count > max)
        {
            return Problems.Validation($"count is how many codes to mint: 1 to {max.ToString("N0", CultureInfo.InvariantCulture)} per request.");
        }

        if (poll.VoterIdentity != VoterIdentity.Invite)
        {
            return Problems.Conflict("not-an-invite-poll", "The poll takes no invite codes", $"Poll {poll.Id} identifies voters as \"{ContractMapping.Name(poll.VoterIdentity)}\"; invite codes are for polls made with voterIdentity \"invite\".");
        }

        var codes = invites.Mint(poll.Id, count);
        await audit.RecordAsync(ManagementFilter.CallerOf(request.HttpContext), poll.Workspace, "invites.minted", poll.Id, count.ToString(CultureInfo.InvariantCulture) + " codes");
        return TypedResults.Created((string?)null, new InvitesResponse(poll.Id, codes));
    }

    private static async Task<Results<Created<WatchTokenResponse>, ProblemHttpResult>> IssueWatchTokenAsync(
        string id, HttpRequest request, ITallyEngine engine, TallyTokens tokens, IOptions<TallyServerOptions> server, IOptions<AccessOptions> access)
    {
        var managed = await ManagedPollAsync(request.HttpContext, engine, id);
        if (managed.Value is not { } poll)
        {
            return HttpAccess.Refuse(request.HttpContext.Response, managed.Rejection!);
        }

        var max = access.Value.MaxWatchTokenLifetime;
        var lifetime = TimeSpan.FromHours(1) < max ? TimeSpan.FromHours(1) : max;
        if (request.ContentLength is > 0 || request.Headers.ContentType.Count > 0)
        {
            var (body, problem) = await JsonBody.ReadAsync(request, TallyJsonContext.Default.WatchTokenRequest, server.Value.MaxBodyBytes);
            if (problem is not null)
            {
                return problem;
            }

            if (body!.TtlSeconds is { } ttl)
            {
                if (ttl < 60 || ttl > max.TotalSeconds)
                {
                    return Problems.Validation($"ttlSeconds is from 60 to {max.TotalSeconds.ToString(CultureInfo.InvariantCulture)}.");
                }

                lifetime = TimeSpan.FromSeconds(ttl);
            }
        }

        var (token, expires) = tokens.IssueWatch(poll.Workspace, poll.Id, lifetime, ManagementFilter.CallerOf(request.HttpContext).Actor);
        return TypedResults.Created((string?)null, new WatchTokenResponse(token, expires));
    }

    /// <summary>The poll, when the management caller may act on it (its workspace's credentials, or the root key); else 404, or 503 while a cluster partition has no owner.</summary>
    internal static async Task<Outcome<PollDefinition>> ManagedPollAsync(HttpContext context, ITallyEngine engine, string id)
    {
        if (!PollRules.IsPollId(id))
        {
            return PollRules.UnknownPoll(id);
        }

        var found = await engine.FindPollAsync(id, context.RequestAborted);
        if (found.Value is { } poll)
        {
            return ManagementFilter.CallerOf(context).IsOf(poll.Workspace) ? poll : PollRules.UnknownPoll(id);
        }

        return found.Rejection!.Kind == RejectionKind.UnknownPoll ? PollRules.UnknownPoll(id) : found.Rejection;
    }
}
