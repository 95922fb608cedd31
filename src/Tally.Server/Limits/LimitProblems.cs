using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Tally.Server.Http;

namespace Tally.Server.Limits;

/// <summary>The answer to a stream past the cap per address (429 <c>too-many-connections</c>).</summary>
internal static class LimitProblems
{
    public const string TooManyConnectionsSlug = "too-many-connections";

    /// <summary>The seconds a client waits before trying again: streams end at their own pace, so a guess.</summary>
    public const int RetryAfterSeconds = 5;

    public static string TooManyStreamsDetail(int max) =>
        $"This address has {max.ToString("N0", CultureInfo.InvariantCulture)} live streams (WebSockets, SSE, gRPC watches) open on this server, the most it may; close one first.";

    public static ProblemHttpResult TooManyStreams(HttpResponse response, int max)
    {
        response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Type = Problems.Prefix + TooManyConnectionsSlug,
            Title = "Too many connections from this address",
            Detail = TooManyStreamsDetail(max),
        });
    }
}
