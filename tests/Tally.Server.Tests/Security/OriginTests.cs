using System.Net;
using System.Net.Http.Json;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Browsers on other sites: a WebSocket from a page whose origin no workspace allows is refused at the upgrade
/// (cross-site WebSocket hijacking), and one a workspace allows may use only that workspace's polls; CORS answers
/// carry the poll's workspace's allowed origins; the results page may be framed by the workspace's embedders.
/// Clients that send no Origin (not browsers) are not affected.
/// </summary>
public sealed class OriginTests(OriginTests.Fixture fixture) : IClassFixture<OriginTests.Fixture>
{
    private const string Allowed = "https://app.example.com";
    private const string Foreign = "https://evil.example";

    private TestServer Server => fixture.Server;

    [Theory]
    [InlineData(Via.WebSocketJson)]
    [InlineData(Via.WebSocketMessagePack)]
    public async Task A_websocket_from_another_site_works_only_for_polls_of_a_workspace_that_allows_that_site(Via via)
    {
        var voter = await fixture.AnonymousVoterAsync();

        var (refused, why) = await Transports.ConnectAsync(Server, via, voter, o => o.SetRequestHeader("Origin", Foreign));
        Assert.Null(refused);
        Assert.Equal("forbidden", why);

        var (socket, _) = await Transports.ConnectAsync(Server, via, voter, o => o.SetRequestHeader("Origin", Allowed));
        await using (socket)
        {
            await socket!.SubscribeAsync(fixture.OtherPoll);
            var error = await socket.ReceiveAsync();
            Assert.Equal("urn:tally:problem:forbidden", (string?)error["error"]?["type"]);

            await socket.SubscribeAsync(fixture.Poll);
            Assert.Equal("snapshot", (string?)(await socket.ReceiveAsync())["type"]);
        }

        // No Origin (a server, a native app) and the server's own origin: not a cross-site page.
        var (native, _) = await Transports.ConnectAsync(Server, via, voter);
        await using (native)
        {
            await native!.SubscribeAsync(fixture.OtherPoll);
            Assert.Equal("snapshot", (string?)(await native.ReceiveAsync())["type"]);
        }

        var own = Server.BaseAddress.GetLeftPart(UriPartial.Authority);
        var (same, _) = await Transports.ConnectAsync(Server, via, voter, o => o.SetRequestHeader("Origin", own));
        await using (same)
        {
            await same!.SubscribeAsync(fixture.OtherPoll);
            Assert.Equal("snapshot", (string?)(await same.ReceiveAsync())["type"]);
        }
    }

    [Fact]
    public async Task Cors_allows_the_polls_workspace_origins_with_credentials_and_no_other()
    {
        using (var preflight = Preflight($"/v1/polls/{fixture.Poll}/votes", Allowed))
        using (var answer = await Server.Client.SendAsync(preflight))
        {
            Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
            Assert.Equal(Allowed, Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Origin")));
            Assert.Equal("true", Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Credentials")));
            Assert.Contains("Idempotency-Key", string.Join(',', answer.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        }

        foreach (var (path, origin) in new[] { ($"/v1/polls/{fixture.OtherPoll}/votes", Allowed), ($"/v1/polls/{fixture.Poll}/votes", Foreign) })
        {
            using var preflight = Preflight(path, origin);
            using var answer = await Server.Client.SendAsync(preflight);
            Assert.False(answer.Headers.Contains("Access-Control-Allow-Origin"), $"{origin} on {path}");
        }

        using var read = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{fixture.Poll}/results");
        read.Headers.Add("Origin", Allowed);
        using var results = await Server.Client.SendAsync(read);
        Assert.Equal(HttpStatusCode.OK, results.StatusCode);
        Assert.Equal(Allowed, Assert.Single(results.Headers.GetValues("Access-Control-Allow-Origin")));
    }

    [Fact]
    public async Task The_results_page_may_be_framed_by_its_workspaces_embedders_only()
    {
        using var page = await Server.Client.GetAsync($"/polls/{fixture.Poll}");
        var policy = string.Join(';', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'self' https://embed.example.com", policy, StringComparison.Ordinal);

        using var other = await Server.Client.GetAsync($"/polls/{fixture.OtherPoll}");
        var otherPolicy = string.Join(';', other.Headers.GetValues("Content-Security-Policy"));
        Assert.DoesNotContain("embed.example.com", otherPolicy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'self'", otherPolicy, StringComparison.Ordinal);
    }

    private static HttpRequestMessage Preflight(string path, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type,idempotency-key");
        return request;
    }

    public sealed class Fixture : SecureServer
    {
        public string Poll { get; private set; } = null!;

        public string OtherPoll { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var workspace = await CreateWorkspaceAsync(new { allowedOrigins = new[] { Allowed }, embedders = new[] { "https://embed.example.com" } });
            Poll = await CreatePollAsync(workspaceHeader: workspace);
            OtherPoll = await CreatePollAsync(); // the default workspace: no origins allowed
        }
    }
}
