using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Tally.Engine;
using Tally.Polls;
using Tally.Server.Http;

namespace Tally.Server.Access;

/// <summary>The HTTP side of admission: a request's <see cref="Visitor"/>, and refusals as problems with their headers.</summary>
internal static class HttpAccess
{
    /// <summary>Authenticates the request's credential and describes it for the admission path.</summary>
    public static async ValueTask<Outcome<Visitor>> VisitorAsync(HttpContext context, string transport = "http")
    {
        var caller = await context.RequestServices.GetRequiredService<Authenticator>().AuthenticateAsync(context).ConfigureAwait(false);
        return caller.Value is { } known
            ? new Visitor(known, context.Connection.RemoteIpAddress, VoterCookieOf(context.Request), null, transport)
            {
                Report = transport == "http" ? new Limits.RateLimitReport(context.Response) : null,
            }
            : caller.Rejection!;
    }

    /// <summary>The anonymous voter cookie, when it has a sane size.</summary>
    public static string? VoterCookieOf(HttpRequest request) =>
        request.Cookies.TryGetValue(VoterIdentities.VoterCookie, out var value) && value.Length <= TokenValidator.MaxTokenLength ? value : null;

    /// <summary>The problem for <paramref name="rejection"/>, with <c>WWW-Authenticate</c> on a 401 and <c>Retry-After</c> when it says when.</summary>
    public static ProblemHttpResult Refuse(HttpResponse response, Rejection rejection)
    {
        if (rejection.Kind == RejectionKind.Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        if (rejection.RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return Problems.From(rejection);
    }
}
