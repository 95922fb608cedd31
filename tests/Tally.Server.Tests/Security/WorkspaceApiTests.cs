using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Workspaces, their API keys and audit log over the HTTP API: who may make and see them, the secret shown once
/// and stored only as a hash, revocation, scoping (another workspace's things are 404), settings and their checks.
/// </summary>
public sealed class WorkspaceApiTests(SecureServer fixture) : IClassFixture<SecureServer>
{
    private TestServer Server => fixture.Server;

    [Fact]
    public async Task Only_the_root_key_makes_and_lists_workspaces()
    {
        var workspace = await fixture.CreateWorkspaceAsync();
        var (admin, _) = await fixture.CreateKeyAsync(workspace, ["admin"]);

        using (var byAdmin = await SendAsync(HttpMethod.Post, "/v1/workspaces", admin, new { id = "not-mine" }))
        {
            await ApiClient.AssertProblemAsync(byAdmin, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var nobody = await SendAsync(HttpMethod.Get, "/v1/workspaces", null))
        {
            await ApiClient.AssertProblemAsync(nobody, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var again = await Server.Admin.PostAsJsonAsync("/v1/workspaces", new { id = workspace }))
        {
            await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict, "workspace-exists");
        }

        using (var bad = await Server.Admin.PostAsJsonAsync("/v1/workspaces", new { id = "Not Valid", settings = new { allowedOrigins = new[] { "https://a.example/path" }, jwt = new { issuer = "x", hmacSecret = "short" } } }))
        {
            var problem = await ApiClient.AssertProblemAsync(bad, HttpStatusCode.UnprocessableEntity, "validation");
            var errors = problem["errors"]!.AsObject();
            Assert.True(errors.ContainsKey("id") && errors.ContainsKey("settings.allowedOrigins[0]") && errors.ContainsKey("settings.jwt.hmacSecret"), errors.ToJsonString());
        }

        var list = await Server.Admin.GetFromJsonAsync<JsonObject>("/v1/workspaces");
        Assert.Contains(list!["items"]!.AsArray(), w => (string)w!["id"]! == workspace);
        Assert.Contains(list["items"]!.AsArray(), w => (string)w!["id"]! == "default");
    }

    [Fact]
    public async Task A_key_is_shown_once_listed_without_its_secret_and_revoked_at_once()
    {
        var workspace = await fixture.CreateWorkspaceAsync();
        using var created = await Server.Admin.PostAsJsonAsync($"/v1/workspaces/{workspace}/keys", new { name = "backend", scopes = new[] { "votes:write", "polls:read" }, expiresAt = DateTimeOffset.UtcNow.AddDays(30) });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.ReadJsonAsync();
        var key = (string)body["key"]!;
        var id = (string)body["details"]!["id"]!;
        Assert.StartsWith($"tly_{id}_", key, StringComparison.Ordinal);
        Assert.Equal(["polls:read", "votes:write"], body["details"]!["scopes"]!.AsArray().Select(s => (string)s!));

        var poll = await fixture.CreatePollAsync(voterIdentity: "client", workspaceHeader: workspace);
        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, key, voterId: "u1"));

        var listed = await (await Server.Admin.GetAsync($"/v1/workspaces/{workspace}/keys")).Content.ReadAsStringAsync();
        Assert.Contains(id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(key[(5 + id.Length)..], listed, StringComparison.Ordinal);

        using (var revoke = await Server.Admin.DeleteAsync($"/v1/workspaces/{workspace}/keys/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, Via.Http, poll, key, voterId: "u2"));
        var revokedAt = (await Server.Admin.GetFromJsonAsync<JsonObject>($"/v1/workspaces/{workspace}/keys"))!["items"]!.AsArray().Single(k => (string)k!["id"]! == id)!["revokedAt"];
        Assert.NotNull(revokedAt);

        using (var missing = await Server.Admin.DeleteAsync($"/v1/workspaces/{workspace}/keys/aaaaaaaaaaaa"))
        {
            await ApiClient.AssertProblemAsync(missing, HttpStatusCode.NotFound, "key-not-found");
        }
    }

    [Fact]
    public async Task A_workspace_admin_manages_its_own_workspace_and_sees_no_other()
    {
        var mine = await fixture.CreateWorkspaceAsync();
        var theirs = await fixture.CreateWorkspaceAsync();
        var (admin, _) = await fixture.CreateKeyAsync(mine, ["admin"]);
        var (manager, _) = await fixture.CreateKeyAsync(mine, ["polls:manage"]);
        var theirPoll = await fixture.CreatePollAsync(workspaceHeader: theirs);

        using (var own = await SendAsync(HttpMethod.Post, "/v1/workspaces/current/keys", admin, new { name = "ci", scopes = new[] { "polls:manage" } }))
        {
            Assert.Equal(HttpStatusCode.Created, own.StatusCode);
            Assert.Equal(mine, (string?)(await own.ReadJsonAsync())["details"]!["workspace"]);
        }

        foreach (var (method, path) in new[] { (HttpMethod.Get, $"/v1/workspaces/{theirs}"), (HttpMethod.Get, $"/v1/workspaces/{theirs}/keys"), (HttpMethod.Get, $"/v1/workspaces/{theirs}/audit") })
        {
            using var refused = await SendAsync(method, path, admin);
            await ApiClient.AssertProblemAsync(refused, HttpStatusCode.NotFound, "workspace-not-found");
        }

        using (var noScope = await SendAsync(HttpMethod.Get, $"/v1/workspaces/{mine}/keys", manager))
        {
            await ApiClient.AssertProblemAsync(noScope, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var close = await SendAsync(HttpMethod.Post, $"/v1/polls/{theirPoll}/close", manager))
        {
            await ApiClient.AssertProblemAsync(close, HttpStatusCode.NotFound, "poll-not-found");
        }

        var ownPoll = await fixture.CreatePollAsync(credential: manager);
        using var list = await SendAsync(HttpMethod.Get, "/v1/polls?limit=100", manager);
        var ids = (await list.ReadJsonAsync())["items"]!.AsArray().Select(p => (string)p!["id"]!).ToList();
        Assert.Equal([ownPoll], ids);

        using var header = await SendAsync(HttpMethod.Get, "/v1/polls", manager, workspaceHeader: theirs);
        await ApiClient.AssertProblemAsync(header, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task The_audit_log_records_who_did_what_newest_first_and_pages()
    {
        var workspace = await fixture.CreateWorkspaceAsync();
        var (admin, adminId) = await fixture.CreateKeyAsync(workspace, ["admin"]);
        var (manager, managerId) = await fixture.CreateKeyAsync(workspace, ["polls:manage"]);
        var poll = await fixture.CreatePollAsync(credential: manager);
        using (var close = await SendAsync(HttpMethod.Post, $"/v1/polls/{poll}/close", manager))
        {
            close.EnsureSuccessStatusCode();
        }

        await fixture.RevokeKeyAsync(workspace, managerId);
        using (var rename = await SendAsync(HttpMethod.Patch, $"/v1/workspaces/{workspace}", admin, new { name = "Renamed" }))
        {
            Assert.Equal("Renamed", (string?)(await rename.ReadJsonAsync())["name"]);
        }

        var entries = new List<JsonNode>();
        string? cursor = null;
        do
        {
            using var page = await SendAsync(HttpMethod.Get, $"/v1/workspaces/{workspace}/audit?limit=2" + (cursor is null ? "" : $"&cursor={cursor}"), admin);
            var body = await page.ReadJsonAsync();
            entries.AddRange(body["items"]!.AsArray().Select(e => e!));
            cursor = (string?)body["nextCursor"];
        }
        while (cursor is not null);

        Assert.Equal(
            ["workspace.updated", "key.revoked", "poll.closed", "poll.created", "key.created", "key.created", "workspace.created"],
            entries.Select(e => (string)e["action"]!));
        Assert.Equal($"key:{adminId}", (string?)entries[0]["actor"]);
        Assert.Equal("root", (string?)entries[1]["actor"]);
        Assert.Equal($"key:{managerId}", (string?)entries[2]["actor"]);
        Assert.Equal(poll, (string?)entries[2]["target"]);
        Assert.DoesNotContain(manager, string.Join(' ', entries.Select(e => e.ToJsonString())), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_replace_the_old_ones_the_hmac_secret_is_never_sent_back_and_an_issuer_belongs_to_one_workspace()
    {
        var issuer = TestIssuer.Hmac("https://issuer-" + Guid.NewGuid().ToString("N") + ".example");
        var first = await fixture.CreateWorkspaceAsync(issuer);
        var second = await fixture.CreateWorkspaceAsync();

        var read = await (await Server.Admin.GetAsync($"/v1/workspaces/{first}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(issuer.HmacSecret!, read, StringComparison.Ordinal);
        Assert.Equal(true, (bool?)JsonNode.Parse(read)!["settings"]!["jwt"]!["hmacSecret"]);

        using (var taken = await SendAsync(HttpMethod.Patch, $"/v1/workspaces/{second}", Infrastructure.TestServer.AdminKey, new { settings = new { jwt = new { issuer = issuer.Issuer, hmacSecret = issuer.HmacSecret } } }))
        {
            await ApiClient.AssertProblemAsync(taken, HttpStatusCode.Conflict, "issuer-taken");
        }

        var poll = await fixture.CreatePollAsync(voterIdentity: "token", workspaceHeader: first);
        Assert.Equal("counted", await Transports.VoteAsync(Server, Via.Http, poll, issuer.Token("v1")));

        // Replacing the settings without the issuer: the workspace's tokens stop working at once.
        using (var cleared = await SendAsync(HttpMethod.Patch, $"/v1/workspaces/{first}", Infrastructure.TestServer.AdminKey, new { settings = new { allowedOrigins = new[] { "https://x.example" } } }))
        {
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        }

        Assert.Equal("unauthorized", await Transports.VoteAsync(Server, Via.Http, poll, issuer.Token("v2")));
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? credential, object? body = null, string? workspaceHeader = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (workspaceHeader is not null)
        {
            request.Headers.Add("Tally-Workspace", workspaceHeader);
        }

        Transports.Authorize(request, credential);
        return Server.Client.SendAsync(request);
    }
}
