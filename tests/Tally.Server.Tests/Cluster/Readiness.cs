using System.Net;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Cluster;

/// <summary>What a node's <c>/readyz</c> says, for polling with <c>Eventually</c>.</summary>
internal static class Readiness
{
    public static HttpStatusCode Status(TestServer node)
    {
        using var response = node.Client.GetAsync(new Uri("/readyz", UriKind.Relative)).GetAwaiter().GetResult();
        return response.StatusCode;
    }

    /// <summary>One named check: "up" or "down".</summary>
    public static string? Check(TestServer node, string check)
    {
        using var response = node.Client.GetAsync(new Uri("/readyz", UriKind.Relative)).GetAwaiter().GetResult();
        return (string?)response.ReadJsonAsync().GetAwaiter().GetResult()["checks"]?[check];
    }
}
