using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Limits;

/// <summary>Requests as a given client: <c>X-Forwarded-For</c> says which (the test client is on loopback, a trusted proxy by default).</summary>
internal static class LimitRequests
{
    public static Task<HttpResponseMessage> VoteAsync(TestServer server, string pollId, string? voterId = null, string? forwardedFor = null, string? credential = null, int option = 1)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/polls/{pollId}/votes") { Content = JsonContent.Create(new { optionIds = new[] { option }, voterId }) };
        return SendAsync(server, request, forwardedFor, credential);
    }

    /// <summary>A batch of <paramref name="votes"/> votes for option 1; <paramref name="voter"/> names the voter of each (none by default).</summary>
    public static Task<HttpResponseMessage> BatchAsync(TestServer server, string pollId, int votes, string? forwardedFor = null, Func<int, string?>? voter = null, string? credential = null)
    {
        var body = new { votes = Enumerable.Range(0, votes).Select(i => new { pollId, optionIds = new[] { 1 }, voterId = voter?.Invoke(i) }).ToArray() };
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/votes/batch") { Content = JsonContent.Create(body) };
        return SendAsync(server, request, forwardedFor, credential);
    }

    public static async Task<HttpResponseMessage> SendAsync(TestServer server, HttpRequestMessage request, string? forwardedFor = null, string? credential = null)
    {
        using (request)
        {
            if (forwardedFor is not null)
            {
                request.Headers.Add("X-Forwarded-For", forwardedFor);
            }

            if (credential is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
            }

            return await server.Client.SendAsync(request);
        }
    }

    /// <summary>A response header's value (one line, as sent).</summary>
    public static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values) : throw new Xunit.Sdk.XunitException($"no {name} header");

    public static int RetryAfter(HttpResponseMessage response) => int.Parse(Header(response, "Retry-After"), CultureInfo.InvariantCulture);
}
