using System.Net;
using System.Net.Http.Json;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Voter tokens on a <c>token</c> poll, on every voting transport: a token signed by the workspace's issuer votes as
/// its <c>sub</c>; every way a token can be wrong is a 401 (expired, not yet valid, another issuer, another audience,
/// a key the issuer never published, <c>alg: none</c>, a changed payload, another issuer's key under the same
/// <c>kid</c>), a token scoped to another poll is a 403, and a valid token of another workspace is a 404.
/// </summary>
public sealed class JwtTests(JwtTests.Fixture fixture) : IClassFixture<JwtTests.Fixture>
{
    private TestServer Server => fixture.Server;

    [Theory]
    [MemberData(nameof(Transports.Voting), MemberType = typeof(Transports))]
    public async Task Every_wrong_token_is_refused_and_a_right_one_votes_as_its_subject(Via via)
    {
        var poll = await fixture.CreatePollAsync(voterIdentity: "token", workspaceHeader: fixture.Workspace);
        var issuer = fixture.Issuer;
        var voter = "user-" + via;
        var cases = new (string Name, string Token, string Expected)[]
        {
            ("expired", issuer.Token(voter, lifetime: TimeSpan.FromMinutes(5), notBefore: DateTimeOffset.UtcNow.AddHours(-1)), "unauthorized"),
            ("not yet valid", issuer.Token(voter, notBefore: DateTimeOffset.UtcNow.AddHours(1)), "unauthorized"),
            ("another issuer", issuer.Token(voter, issuer: "https://not-trusted.example"), "unauthorized"),
            ("another audience", issuer.Token(voter, audience: "someone-else"), "unauthorized"),
            ("an unpublished key", fixture.Impostor.Token(voter), "unauthorized"),
            ("alg none", TestIssuer.Unsigned(issuer.Token(voter)), "unauthorized"),
            ("a changed payload", TestIssuer.Tampered(issuer.Token("someone"), voter), "unauthorized"),
            ("another issuer's key, same kid", fixture.OtherIssuer.Token(voter, issuer: issuer.Issuer), "unauthorized"),
            ("too long a lifetime", issuer.Token(voter, lifetime: TimeSpan.FromHours(25)), "unauthorized"),
            ("not a JWT", "a.b.c", "unauthorized"),
            ("for another poll", issuer.Token(voter, poll: "zzzzzzzzzz"), "forbidden"),
            ("of another workspace", fixture.OtherIssuer.Token(voter), "poll-not-found"),
            ("without a sub", issuer.Token(""), "forbidden"),
        };

        foreach (var (name, token, expected) in cases)
        {
            var actual = await Transports.VoteAsync(Server, via, poll, token);
            Assert.True(expected == actual, $"{via}, a token {name}: expected {expected}, got {actual}");
        }

        Assert.Equal(0, await fixture.TotalAsync(poll));
        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, via, poll, null));
        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, via, poll, null, voterId: voter));
        Assert.Equal("counted", await Transports.VoteAsync(Server, via, poll, issuer.Token(voter, poll: poll)));
        Assert.Equal("already-voted", await Transports.VoteAsync(Server, via, poll, issuer.Token(voter), option: 2));
        Assert.Equal("validation", await Transports.VoteAsync(Server, via, poll, issuer.Token("another-" + voter), voterId: "forged"));
        Assert.Equal(1, await fixture.TotalAsync(poll));
    }

    [Theory]
    [MemberData(nameof(Transports.Watching), MemberType = typeof(Transports))]
    public async Task Every_wrong_token_is_refused_on_every_read_path_of_a_private_poll(Via via)
    {
        var poll = await fixture.CreatePollAsync(voterIdentity: "token", access: "private", workspaceHeader: fixture.Workspace);
        var issuer = fixture.Issuer;
        var cases = new (string Name, string? Token, string Expected)[]
        {
            ("none", null, "poll-not-found"),
            ("expired", issuer.Token("r", lifetime: TimeSpan.FromMinutes(5), notBefore: DateTimeOffset.UtcNow.AddHours(-1)), "unauthorized"),
            ("not yet valid", issuer.Token("r", notBefore: DateTimeOffset.UtcNow.AddHours(1)), "unauthorized"),
            ("another issuer", issuer.Token("r", issuer: "https://not-trusted.example"), "unauthorized"),
            ("another audience", issuer.Token("r", audience: "someone-else"), "unauthorized"),
            ("an unpublished key", fixture.Impostor.Token("r"), "unauthorized"),
            ("alg none", TestIssuer.Unsigned(issuer.Token("r")), "unauthorized"),
            ("a changed payload", TestIssuer.Tampered(issuer.Token("r"), "admin"), "unauthorized"),
            ("another issuer's key, same kid", fixture.OtherIssuer.Token("r", issuer: issuer.Issuer), "unauthorized"),
            ("for another poll", issuer.Token("r", poll: "zzzzzzzzzz"), "forbidden"),
            ("of another workspace", fixture.OtherIssuer.Token("r"), "poll-not-found"),
            ("of the workspace", issuer.Token("r"), "ok"),
            ("for this poll", issuer.Token("r", poll: poll), "ok"),
        };

        foreach (var (name, token, expected) in cases)
        {
            var actual = await Transports.WatchAsync(Server, via, poll, token);
            Assert.True(expected == actual, $"{via}, a token {name}: expected {expected}, got {actual}");
        }
    }

    [Theory]
    [InlineData("hs256")]
    [InlineData("es256")]
    public async Task Hs256_secrets_and_es256_keys_sign_voter_tokens_too(string kind)
    {
        var (issuer, workspace) = kind == "hs256" ? (fixture.Hmac, fixture.HmacWorkspace) : (fixture.Ec, fixture.EcWorkspace);
        var poll = await fixture.CreatePollAsync(voterIdentity: "token", workspaceHeader: workspace);

        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, issuer.Token("ann")));
        Assert.Equal("already-voted", await Transports.VoteAsync(Server, Via.Http, poll, issuer.Token("ann")));
        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, Via.Http, poll, fixture.Issuer.Token("ann", issuer: issuer.Issuer)));
    }

    [Fact]
    public async Task A_backend_with_votes_write_votes_for_its_users_on_token_polls()
    {
        var poll = await fixture.CreatePollAsync(voterIdentity: "token", workspaceHeader: fixture.Workspace);
        var (writer, _) = await fixture.CreateKeyAsync(fixture.Workspace, ["votes:write"]);

        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, writer, voterId: "bob"));
        Assert.Equal("already-voted", await Transports.VoteAsync(Server, Via.Http, poll, fixture.Issuer.Token("bob")));
    }

    [Fact]
    public async Task A_workspace_jwt_with_polls_manage_manages_polls_through_the_jwt_bearer_scheme()
    {
        var manager = fixture.Issuer.Token("ops-1", scope: "polls:manage");
        var poll = await fixture.CreatePollAsync(voterIdentity: "token", credential: manager);

        using (var list = new HttpRequestMessage(HttpMethod.Get, "/v1/polls"))
        {
            Transports.Authorize(list, manager);
            using var listed = await Server.Client.SendAsync(list);
            var items = (await listed.ReadJsonAsync())["items"]!.AsArray();
            Assert.Contains(items, p => (string)p!["id"]! == poll);
            Assert.All(items, p => Assert.Equal(fixture.Workspace, (string)p!["workspace"]!));
        }

        using var voterOnly = new HttpRequestMessage(HttpMethod.Post, "/v1/polls") { Content = JsonContent.Create(new { question = "q", options = new[] { "a", "b" } }) };
        Transports.Authorize(voterOnly, fixture.Issuer.Token("ops-2"));
        using (var refused = await Server.Client.SendAsync(voterOnly))
        {
            await ApiClient.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        }

        using var expired = new HttpRequestMessage(HttpMethod.Post, "/v1/polls") { Content = JsonContent.Create(new { question = "q", options = new[] { "a", "b" } }) };
        Transports.Authorize(expired, fixture.Issuer.Token("ops-1", scope: "polls:manage", lifetime: TimeSpan.FromMinutes(1), notBefore: DateTimeOffset.UtcNow.AddHours(-1)));
        using (var refused = await Server.Client.SendAsync(expired))
        {
            await ApiClient.AssertProblemAsync(refused, HttpStatusCode.Unauthorized, "unauthorized");
        }
    }

    [Fact]
    public async Task One_voter_racing_with_many_tokens_at_once_counts_once()
    {
        var poll = await fixture.CreatePollAsync(voterIdentity: "token", workspaceHeader: fixture.Workspace);
        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Transports.VoteAsync(Server, i % 2 == 0 ? Via.Http : Via.Grpc, poll, fixture.Issuer.Token("racer"), option: 1 + (i % 3))));

        Assert.Equal(1, answers.Count(a => a == "counted"));
        Assert.Equal(39, answers.Count(a => a == "already-voted"));
        Assert.Equal(1, await fixture.TotalAsync(poll));
    }

    [Fact]
    public async Task A_role_claim_grants_scopes_as_a_scope_claim_does()
    {
        var withRoles = TestIssuer.WithClaim(fixture.Issuer, "ops-3", "roles", new[] { "polls:manage" });
        var withRole = TestIssuer.WithClaim(fixture.Issuer, "ops-4", "role", "polls:manage");
        Assert.False(string.IsNullOrEmpty(await fixture.CreatePollAsync(voterIdentity: "token", credential: withRoles)));
        Assert.False(string.IsNullOrEmpty(await fixture.CreatePollAsync(voterIdentity: "token", credential: withRole)));
    }

    [Fact]
    public async Task A_rotated_key_validates_once_the_issuer_publishes_it()
    {
        var first = TestIssuer.Rsa("https://rotating.example", "r1");
        var jwks = fixture.Jwks.Publish("rotating", first);
        var workspace = await fixture.CreateWorkspaceAsync(new { jwt = new { issuer = first.Issuer, audience = first.Audience, jwksUrl = jwks } });
        var poll = await fixture.CreatePollAsync(voterIdentity: "token", workspaceHeader: workspace);
        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, first.Token("u1")));

        var second = TestIssuer.Rsa(first.Issuer, "r2");
        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, Via.Http, poll, second.Token("u2")));
        fixture.Jwks.Publish("rotating", first, second);

        // An unknown kid makes the server fetch the keys again (at most once per JwksMinimumRefreshInterval, 1 s here).
        await Eventually.WaitUntilAsync(async () => await Transports.VoteAsync(Server, Via.Http, poll, second.Token("u2")) == "counted");
    }

    public sealed class Fixture : SecureServer
    {
        protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string> { ["Tally:Access:JwksMinimumRefreshInterval"] = "00:00:01" };

        public TestIssuer Issuer { get; } = TestIssuer.Rsa("https://auth.example", "k1");

        /// <summary>Another workspace's issuer, whose key has the same kid as <see cref="Issuer"/>'s.</summary>
        public TestIssuer OtherIssuer { get; } = TestIssuer.Rsa("https://other.example", "k1");

        /// <summary>A key nobody published, under the issuer's kid.</summary>
        public TestIssuer Impostor { get; } = TestIssuer.Rsa("https://auth.example", "k1");

        public TestIssuer Hmac { get; } = TestIssuer.Hmac("https://hmac.example");

        public TestIssuer Ec { get; } = TestIssuer.Ecdsa("https://ec.example", "e1");

        public string Workspace { get; private set; } = null!;

        public string HmacWorkspace { get; private set; } = null!;

        public string EcWorkspace { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            Workspace = await CreateWorkspaceAsync(Issuer);
            await CreateWorkspaceAsync(OtherIssuer);
            HmacWorkspace = await CreateWorkspaceAsync(Hmac);
            EcWorkspace = await CreateWorkspaceAsync(Ec);
        }
    }
}
