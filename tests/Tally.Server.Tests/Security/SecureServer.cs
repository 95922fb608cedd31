using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary>
/// A server with the defaults a deployment gets (no compatibility setting: body voterIds are not trusted), a JWKS
/// host for its workspaces' issuers, and helpers that make workspaces, keys and polls over the HTTP API.
/// </summary>
public class SecureServer : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public JwksHost Jwks { get; private set; } = null!;

    /// <summary>Settings every secure test server gets; a test class may add its own.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    public virtual async Task InitializeAsync()
    {
        Jwks = await JwksHost.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["Tally:Compatibility:ClientVoterIds"] = "false",
            ["Tally:Access:JwksRequireHttps"] = "false", // the test's JWKS host is on cleartext loopback
        };
        foreach (var (key, value) in Settings)
        {
            settings[key] = value;
        }

        Server = await TestServer.StartAsync(settings);
    }

    public virtual async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Jwks.DisposeAsync();
    }

    /// <summary>A new workspace with a unique id; <paramref name="settings"/> as the API takes them.</summary>
    public async Task<string> CreateWorkspaceAsync(object? settings = null)
    {
        var id = "ws-" + Guid.NewGuid().ToString("N")[..10];
        using var response = await Server.Admin.PostAsJsonAsync("/v1/workspaces", new { id, name = "Test " + id, settings });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create workspace: {(int)response.StatusCode} {text}");
        return id;
    }

    /// <summary>A workspace whose JWTs are <paramref name="issuer"/>'s (HS256 secret, or its key published on the JWKS host).</summary>
    public Task<string> CreateWorkspaceAsync(TestIssuer issuer, params string[] allowedOrigins) =>
        CreateWorkspaceAsync(new
        {
            jwt = issuer.HmacSecret is { } secret
                ? (object)new { issuer = issuer.Issuer, audience = issuer.Audience, hmacSecret = secret }
                : new { issuer = issuer.Issuer, audience = issuer.Audience, jwksUrl = Jwks.Publish(Guid.NewGuid().ToString("N"), issuer) },
            allowedOrigins,
        });

    /// <summary>A new API key of <paramref name="workspace"/>: the whole key (to send) and its id.</summary>
    public async Task<(string Key, string Id)> CreateKeyAsync(string workspace, string[] scopes, DateTimeOffset? expiresAt = null)
    {
        using var response = await Server.Admin.PostAsJsonAsync($"/v1/workspaces/{workspace}/keys", new { name = "test key", scopes, expiresAt });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create key: {(int)response.StatusCode} {text}");
        var body = JsonNode.Parse(text)!;
        return ((string)body["key"]!, (string)body["details"]!["id"]!);
    }

    public async Task RevokeKeyAsync(string workspace, string keyId)
    {
        using var response = await Server.Admin.DeleteAsync($"/v1/workspaces/{workspace}/keys/{keyId}");
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>A poll made with <paramref name="credential"/> (the root key by default, in the default workspace).</summary>
    public async Task<string> CreatePollAsync(
        string voterIdentity = "anonymous",
        string access = "public",
        string resultsVisibility = "live",
        string? credential = null,
        string? workspaceHeader = null,
        string dedupe = "voter",
        bool allowChange = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/polls")
        {
            Content = JsonContent.Create(new { question = "Which one?", options = new[] { "A", "B", "C" }, dedupe, allowChange, voterIdentity, access, resultsVisibility }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential ?? TestServer.AdminKey);
        if (workspaceHeader is not null)
        {
            request.Headers.Add("Tally-Workspace", workspaceHeader);
        }

        using var response = await Server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create poll: {(int)response.StatusCode} {text}");
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    /// <summary>An anonymous voter token from <c>POST /v1/voters</c>.</summary>
    public async Task<string> AnonymousVoterAsync()
    {
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = Server.BaseAddress, Timeout = TestServer.Timeout };
        using var response = await client.PostAsync("/v1/voters", null);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (string)(await response.ReadJsonAsync())["voterToken"]!;
    }

    /// <summary>The poll's results as the root key reads them.</summary>
    public async Task<Dictionary<int, long>> CountsAsync(string pollId) => ApiClient.Counts(await Server.Admin.ResultsAsync(pollId));

    public async Task<long> TotalAsync(string pollId) => (long)(await Server.Admin.ResultsAsync(pollId))["totalVotes"]!;
}
