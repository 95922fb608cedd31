using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Webhooks;

namespace Tally.Server.Tests.Webhooks;

/// <summary>Bad webhook input of every kind gets a 4xx problem; addresses an attacker would aim at are refused, when made and at connect time.</summary>
public sealed class WebhookInputTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")] // cloud metadata
    [InlineData("100.64.0.1")] // CGNAT
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("198.18.0.1")]
    [InlineData("192.0.2.10")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("ff02::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")] // NAT64 of 169.254.169.254
    [InlineData("2002:c0a8:0101::1")] // 6to4 of 192.168.1.1
    [InlineData("2001:db8::1")]
    [InlineData("::127.0.0.1")]
    public void Special_purpose_addresses_are_refused(string address) =>
        Assert.False(WebhookAddresses.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.True(WebhookAddresses.IsPublic(IPAddress.Parse(address)));

    [Fact]
    public async Task A_connection_to_a_refused_address_is_stopped_at_connect_time_whatever_the_url_says()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var refusing = new WebhookSender(Options.Create(new WebhookOptions { AllowHttp = true, Timeout = TestServer.Timeout }));
        using var allowing = new WebhookSender(Options.Create(new WebhookOptions { AllowHttp = true, AllowPrivateNetworks = true, Timeout = TestServer.Timeout }));

        foreach (var url in new[] { receiver.Url.ToString(), receiver.Url.ToString().Replace("127.0.0.1", "localhost", StringComparison.Ordinal) })
        {
            var (status, error, _) = await refusing.SendAsync(url, "msg_x_1", 1, "v1,x", "{}"u8.ToArray(), default).WaitAsync(TestServer.Timeout);
            Assert.Equal(0, status);
            Assert.StartsWith("refused:", error, StringComparison.Ordinal);
        }

        Assert.Empty(receiver.All);
        var (ok, noError, _) = await allowing.SendAsync(receiver.Url.ToString(), "msg_x_1", 1, "v1,x", "{}"u8.ToArray(), default).WaitAsync(TestServer.Timeout);
        Assert.Equal((200, null), (ok, noError));
        Assert.Single(receiver.All);
    }

    [Fact]
    public async Task Every_bad_request_gets_a_problem_and_nothing_is_stored()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["Tally:Webhooks:MaxEndpointsPerWorkspace"] = "2" });
        const string path = "/v1/workspaces/default/webhooks";
        var good = new { url = "https://93.184.215.14/hook", eventTypes = new[] { "vote.counted" } };

        var bodies = new (object Body, string Slug)[]
        {
            (new { eventTypes = new[] { "vote.counted" } }, "validation"),
            (new { url = "", eventTypes = new[] { "vote.counted" } }, "validation"),
            (new { url = "/relative", eventTypes = new[] { "vote.counted" } }, "validation"),
            (new { url = "ftp://93.184.215.14/x", eventTypes = new[] { "vote.counted" } }, "validation"),
            (new { url = "http://93.184.215.14/x", eventTypes = new[] { "vote.counted" } }, "validation"), // https only by default
            (new { url = "https://user:pw@93.184.215.14/x", eventTypes = new[] { "vote.counted" } }, "validation"),
            (new { url = "https://93.184.215.14/x#frag", eventTypes = new[] { "vote.counted" } }, "validation"),
            (new { url = "https://93.184.215.14/" + new string('a', 2100), eventTypes = new[] { "vote.counted" } }, "validation"),
            (new { url = "https://93.184.215.14/x" }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = Array.Empty<string>() }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = new[] { "vote.casted" } }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = new string?[] { null } }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = Enumerable.Repeat("vote.counted", 101).ToArray() }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = new[] { "vote.counted" }, voters = "plain" }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = new[] { "vote.counted" }, from = "yesterday" }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = new[] { "vote.counted" }, description = new string('d', 201) }, "validation"),
            (new { url = "https://93.184.215.14/x", eventTypes = new[] { "vote.counted" }, description = "bell\u0007" }, "validation"),
            (new { url = "https://127.0.0.1/x", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"),
            (new { url = "https://[::1]/x", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"),
            (new { url = "https://localhost/x", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"),
            (new { url = "https://a.b.localhost/x", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"),
            (new { url = "https://169.254.169.254/latest/meta-data", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"),
            (new { url = "https://[::ffff:10.0.0.1]/x", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"),
            (new { url = "https://2130706433/x", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"), // 127.0.0.1 as one number
            (new { url = "https://0x7f.1/x", eventTypes = new[] { "vote.counted" } }, "webhook-url-refused"),
            (new { url = "https://93.184.215.14/x", eventTypes = new[] { "vote.counted" }, extra = 1 }, "invalid-json"),
        };
        foreach (var (body, slug) in bodies)
        {
            using var response = await server.Admin.PostAsJsonAsync(path, body);
            var status = slug == "invalid-json" ? HttpStatusCode.BadRequest : HttpStatusCode.UnprocessableEntity;
            await ApiClient.AssertProblemAsync(response, status, slug);
        }

        foreach (var raw in new[] { "", "{", "[]", "null", "{\"url\":1}", "{\"eventTypes\":\"vote.counted\"}" })
        {
            using var response = await server.Admin.PostRawAsync(path, raw);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        Assert.Empty((await server.Admin.GetFromJsonAsync<JsonObject>(path))!["items"]!.AsArray());

        // Two endpoints at most here; the third is a conflict.
        using (var one = await server.Admin.PostAsJsonAsync(path, good)) { Assert.Equal(HttpStatusCode.Created, one.StatusCode); }
        using (var two = await server.Admin.PostAsJsonAsync(path, good)) { Assert.Equal(HttpStatusCode.Created, two.StatusCode); }
        using (var three = await server.Admin.PostAsJsonAsync(path, good))
        {
            await ApiClient.AssertProblemAsync(three, HttpStatusCode.Conflict, "too-many-webhooks");
        }

        var id = (string)(await server.Admin.GetFromJsonAsync<JsonObject>(path))!["items"]![0]!["id"]!;
        foreach (var unknown in new[] { "wh_ffffffffffffffff", "nope", "wh_" + new string('0', 300), "WH_FFFFFFFFFFFFFFFF" })
        {
            foreach (var request in new Func<Task<HttpResponseMessage>>[]
            {
                () => server.Admin.GetAsync($"{path}/{unknown}"),
                () => server.Admin.DeleteAsync($"{path}/{unknown}"),
                () => server.Admin.PostAsync($"{path}/{unknown}/enable", null),
                () => server.Admin.PostAsync($"{path}/{unknown}/rotate-secret", null),
                () => server.Admin.PostAsJsonAsync($"{path}/{unknown}/replay", new { afterPosition = 0 }),
                () => server.Admin.GetAsync($"{path}/{unknown}/deliveries"),
                () => server.Admin.PatchAsJsonAsync($"{path}/{unknown}", new { description = "x" }),
            })
            {
                using var response = await request();
                await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound, "webhook-not-found");
            }
        }

        foreach (var query in new[] { "limit=0", "limit=101", "limit=x", "cursor=0", "cursor=-1", "cursor=abc" })
        {
            using var response = await server.Admin.GetAsync($"{path}/{id}/deliveries?{query}");
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid-query");
        }

        foreach (var replay in new object[] { new { }, new { afterPosition = -1 }, new { afterPosition = 1L << 40 } })
        {
            using var response = await server.Admin.PostAsJsonAsync($"{path}/{id}/replay", replay);
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.UnprocessableEntity, "validation");
        }

        foreach (var patch in new object[] { new { url = "https://10.0.0.1/x" }, new { eventTypes = Array.Empty<string>() }, new { voters = "x" }, new { url = "nope" } })
        {
            using var response = await server.Admin.PatchAsJsonAsync($"{path}/{id}", patch);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var unchanged = (await server.Admin.GetFromJsonAsync<JsonObject>($"{path}/{id}"))!;
        Assert.Equal(("https://93.184.215.14/hook", "hashed"), ((string?)unchanged["url"], (string?)unchanged["voters"]));
    }

    [Fact]
    public async Task Only_the_workspace_admins_manage_its_webhooks()
    {
        await using var server = await TestServer.StartAsync();
        const string path = "/v1/workspaces/default/webhooks";
        using (var anonymous = await server.Client.GetAsync(path))
        {
            await ApiClient.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using var made = await server.Admin.PostAsJsonAsync("/v1/workspaces/default/keys", new { name = "manager", scopes = new[] { "polls:manage" } });
        Assert.Equal(HttpStatusCode.Created, made.StatusCode);
        using var manager = new HttpClient { BaseAddress = server.BaseAddress };
        manager.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (string)(await made.ReadJsonAsync())["key"]!);
        using (var forbidden = await manager.PostAsJsonAsync(path, new { url = "https://93.184.215.14/hook", eventTypes = new[] { "vote.counted" } }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
        }

        // The secret is in the answer that made the endpoint and nowhere else.
        using var created = await server.Admin.PostAsJsonAsync(path, new { url = "https://93.184.215.14/hook", eventTypes = new[] { "vote.counted" } });
        var secret = (string)(await created.ReadJsonAsync())["secret"]!;
        var listed = await server.Admin.GetStringAsync(path);
        Assert.DoesNotContain(secret[6..], listed, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", listed, StringComparison.Ordinal);
    }
}
