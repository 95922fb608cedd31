using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary>Management endpoints need <c>Authorization: Bearer &lt;admin key&gt;</c>; public endpoints need nothing.</summary>
public sealed class AuthTests(AuthTests.Fixture fixture) : IClassFixture<AuthTests.Fixture>
{
    private const string ValidPoll = """{"question":"Auth?","options":["a","b"]}""";

    public static TheoryData<string, string?> BadCredentials => new()
    {
        { "none", null },
        { "wrong key", "Bearer not-the-key" },
        { "key with a suffix", "Bearer " + TestServer.AdminKey + "x" },
        { "key prefix", "Bearer " + TestServer.AdminKey[..^1] },
        { "key in other case", "Bearer " + TestServer.AdminKey.ToUpperInvariant() },
        { "empty bearer", "Bearer " },
        { "scheme only", "Bearer" },
        { "Basic with the key", "Basic " + Convert.ToBase64String("admin:"u8.ToArray().Concat(System.Text.Encoding.UTF8.GetBytes(TestServer.AdminKey)).ToArray()) },
        { "Basic with the bare key", "Basic " + TestServer.AdminKey },
        { "key without a scheme", TestServer.AdminKey },
        { "Token scheme", "Token " + TestServer.AdminKey },
    };

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task Create_without_a_valid_admin_key_is_401(string what, string? authorization)
    {
        var before = await fixture.PollCountAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/polls") { Content = Json(ValidPoll) };
        Authorize(request, authorization);

        using var response = await fixture.Server.Client.SendAsync(request);

        await AssertUnauthorizedAsync(response, what);
        Assert.Equal(before, await fixture.PollCountAsync());
    }

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task List_without_a_valid_admin_key_is_401(string what, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/polls");
        Authorize(request, authorization);

        using var response = await fixture.Server.Client.SendAsync(request);

        await AssertUnauthorizedAsync(response, what);
    }

    [Theory]
    [MemberData(nameof(BadCredentials))]
    public async Task Close_without_a_valid_admin_key_is_401_and_leaves_the_poll_open(string what, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/polls/{fixture.PollId}/close");
        Authorize(request, authorization);

        using var response = await fixture.Server.Client.SendAsync(request);

        await AssertUnauthorizedAsync(response, what);
        Assert.Equal("open", (string?)(await fixture.Server.Client.ResultsAsync(fixture.PollId))["status"]);
    }

    [Fact]
    public async Task The_auth_check_comes_before_the_body_and_the_query()
    {
        using (var badBody = await fixture.Server.Client.PostRawAsync("/v1/polls", "{not json", "text/plain"))
        {
            await AssertUnauthorizedAsync(badBody, "bad body");
        }

        using (var badQuery = await fixture.Server.Client.GetAsync("/v1/polls?limit=0&cursor=zzz"))
        {
            await AssertUnauthorizedAsync(badQuery, "bad query");
        }

        using var unknownPoll = await fixture.Server.Client.PostAsync("/v1/polls/nosuchpoll/close", null);
        await AssertUnauthorizedAsync(unknownPoll, "unknown poll");
    }

    [Fact]
    public async Task The_admin_key_works_on_every_management_endpoint()
    {
        var admin = fixture.Server.Admin;
        using var create = await admin.PostAsync("/v1/polls", Json(ValidPoll));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var id = (string)(await create.ReadJsonAsync())["id"]!;
        using var list = await admin.GetAsync("/v1/polls");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var close = await admin.PostAsync($"/v1/polls/{id}/close", null);
        Assert.Equal(HttpStatusCode.OK, close.StatusCode);
    }

    [Theory]
    [InlineData("bearer")]
    [InlineData("BEARER")]
    public async Task The_scheme_name_is_case_insensitive(string scheme)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/polls");
        request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {TestServer.AdminKey}");

        using var response = await fixture.Server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Public_endpoints_need_no_key()
    {
        var client = fixture.Server.Client;
        Assert.Null(client.DefaultRequestHeaders.Authorization);
        var id = fixture.PollId;

        using (var get = await client.GetAsync($"/v1/polls/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        using (var results = await client.GetAsync($"/v1/polls/{id}/results"))
        {
            Assert.Equal(HttpStatusCode.OK, results.StatusCode);
        }

        using (var vote = await client.VoteAsync(id, [1], "public-voter"))
        {
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }

        using (var batch = await client.PostAsJsonAsync("/v1/votes/batch", new { votes = new[] { new { pollId = id, optionIds = new[] { 2 }, voterId = "public-batch" } } }))
        {
            Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        }

        foreach (var path in new[] { "/healthz", "/readyz", "/openapi/v1.json" })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task A_wrong_key_on_a_public_endpoint_is_refused_not_ignored()
    {
        // A credential that is not valid is never taken as none: the client learns its key is wrong (or revoked).
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{fixture.PollId}/results");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-key");

        using var response = await fixture.Server.Client.SendAsync(request);

        await AssertUnauthorizedAsync(response, "results with a wrong key");
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response, string what)
    {
        var problem = await ApiClient.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.True(response.Headers.WwwAuthenticate.Any(h => h.Scheme == "Bearer"), $"{what}: no WWW-Authenticate: Bearer");
        Assert.DoesNotContain(TestServer.AdminKey, problem.ToJsonString(), StringComparison.Ordinal);
    }

    private static void Authorize(HttpRequestMessage request, string? authorization)
    {
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    public sealed class Fixture : ServerFixture
    {
        public string PollId { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            PollId = (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
        }

        public async Task<int> PollCountAsync() => (await Server.Admin.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/v1/polls?limit=100"))!["items"]!.AsArray().Count;
    }
}
