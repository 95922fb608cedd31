using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Tally.Server.Security;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary>
/// nosniff on every response; on the pages and their assets a strict Content-Security-Policy (whose
/// frame-ancestors the host can extend through <see cref="IFrameAncestors"/>) and Referrer-Policy; no HSTS in clear.
/// </summary>
public sealed partial class SecurityHeadersTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

    private HttpClient Client => fixture.Server.Client;

    [Theory]
    [InlineData("/")]
    [InlineData("/polls/k3x9q2m7pa")]
    [InlineData("/poll.html")]
    [InlineData("/poll.js")]
    [InlineData("/poll.css")]
    [InlineData("/home.css")]
    public async Task Pages_and_their_assets_have_the_strict_policy_no_referrer_and_nosniff(string path)
    {
        using var response = await Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Policy, Header(response, "Content-Security-Policy"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.False(response.Headers.Contains("Strict-Transport-Security")); // cleartext
    }

    [Theory]
    [InlineData("GET", "/healthz", HttpStatusCode.OK)]
    [InlineData("GET", "/v1/polls/nosuchpoll", HttpStatusCode.NotFound)]
    [InlineData("GET", "/v1/polls", HttpStatusCode.Unauthorized)]
    [InlineData("GET", "/no/such/endpoint", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/v1/polls/nosuchpoll/results", HttpStatusCode.MethodNotAllowed)]
    [InlineData("GET", "/openapi/v1.json", HttpStatusCode.OK)]
    [InlineData("GET", "/metrics", HttpStatusCode.OK)]
    public async Task API_responses_and_errors_have_nosniff_and_no_page_policy(string method, string path, HttpStatusCode status)
    {
        using var response = await Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.False(response.Headers.Contains("Content-Security-Policy"), path);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), path);
    }

    [Fact]
    public async Task A_vote_and_a_live_stream_have_nosniff()
    {
        var id = (string)(await fixture.Server.Admin.CreatePollAsync(options: 2))["id"]!;
        using (var vote = await Client.VoteAsync(id, [1], "ann"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
            Assert.Equal("nosniff", Header(vote, "X-Content-Type-Options"));
        }

        await using var events = await SseClient.ConnectAsync(Client, $"/v1/polls/{id}/events");
        Assert.Equal("nosniff", Header(events.Response, "X-Content-Type-Options"));
        Assert.False(events.Response.Headers.Contains("Content-Security-Policy"));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/poll.html")]
    public async Task The_pages_have_no_inline_script_style_or_event_handler(string path)
    {
        var html = await Client.GetStringAsync(path);

        Assert.DoesNotMatch(InlineContent(), html);
        Assert.Matches("<script src=\"/poll.js\"|<link rel=\"stylesheet\" href=\"/home.css\">", html); // what they load instead
    }

    [Fact]
    public async Task The_host_adds_frame_ancestors_through_IFrameAncestors_and_values_that_are_not_origins_are_left_out()
    {
        var ancestors = new ScriptedFrameAncestors(
            "https://embed.example.com",
            "https://*.example.org:8443/",
            "http://[::1]:9000",
            "https://evil.example; script-src *",
            "javascript:alert(1)",
            "https://embed.example.com/path",
            "https://bad\r\nheader",
            "https://trailing-newline.example\n");
        await using var server = await TestServer.StartAsync(configure: builder => builder.Services.AddSingleton<IFrameAncestors>(ancestors));

        using var page = await server.Client.GetAsync("/polls/k3x9q2m7pa");
        using var api = await server.Client.GetAsync("/healthz");

        Assert.Equal(Policy + " https://embed.example.com https://*.example.org:8443 http://[::1]:9000", Header(page, "Content-Security-Policy"));
        Assert.False(api.Headers.Contains("Content-Security-Policy"));
        Assert.Equal(1, ancestors.Calls); // asked for pages only
    }

    private static string Header(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.TryGetValues(name, out var values) ? values : response.Content.Headers.GetValues(name));

    /// <summary>A &lt;style&gt; element, a &lt;script&gt; without src, a style attribute or an on… handler attribute.</summary>
    [GeneratedRegex(@"<style|<script(?![^>]*\ssrc=)|\sstyle\s*=|\son[a-z]+\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex InlineContent();

    /// <summary>Answers asynchronously (the middleware's slow path) with fixed values.</summary>
    private sealed class ScriptedFrameAncestors(params string[] origins) : IFrameAncestors
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public async ValueTask<IReadOnlyList<string>> GetAsync(HttpContext context)
        {
            Interlocked.Increment(ref _calls);
            await Task.Yield();
            return origins;
        }
    }
}
