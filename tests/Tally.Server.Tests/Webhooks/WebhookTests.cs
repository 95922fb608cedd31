using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;

namespace Tally.Server.Tests.Webhooks;

/// <summary>
/// Webhooks through the real server to a real receiver on loopback (private networks allowed for the test), every
/// signature checked by the StandardWebhooks package (a verifier we did not write).
/// </summary>
public sealed class WebhookTests
{
    internal static readonly Dictionary<string, string> Fast = new()
    {
        ["Tally:Webhooks:AllowPrivateNetworks"] = "true",
        ["Tally:Webhooks:AllowHttp"] = "true",
        ["Tally:Webhooks:FirstRetryDelay"] = "00:00:00.050",
        ["Tally:Webhooks:MaxRetryDelay"] = "00:00:00.200",
        ["Tally:Webhooks:PollInterval"] = "00:00:00.010",
        ["Tally:Webhooks:RefreshInterval"] = "00:00:00.100",
        ["Tally:Webhooks:SaveInterval"] = "00:00:00.050",
    };

    private static readonly TimeSpan Timeout = TestServer.Timeout;

    internal static async Task<(string Id, string Secret)> CreateAsync(HttpClient admin, Uri url, string[] types, string? from = null, string? voters = null, string workspace = "default")
    {
        using var response = await admin.PostAsJsonAsync($"/v1/workspaces/{workspace}/webhooks", new { url = url.ToString(), eventTypes = types, from, voters });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create webhook: {(int)response.StatusCode} {text}");
        var json = JsonNode.Parse(text)!.AsObject();
        var secret = (string)json["secret"]!;
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        return ((string)json["webhook"]!["id"]!, secret);
    }

    /// <summary>
    /// Checks the delivery with the StandardWebhooks package: each secret must match one of the header's signatures.
    /// The package (1.1.2) only accepts a header whose first signature matches, so each signature is checked on its own,
    /// as the spec's verifiers do (the header is a space-separated list), and the whole header with the newest secret.
    /// </summary>
    internal static void AssertSigned(WebhookReceiver.Delivery delivery, params string[] secrets)
    {
        var signatures = delivery.Headers["webhook-signature"].Split(' ');
        foreach (var secret in secrets)
        {
            Assert.True(signatures.Any(signature => Verifies(delivery, secret, signature)), $"no signature in \"{delivery.Headers["webhook-signature"]}\" matches secret #{Array.IndexOf(secrets, secret)}");
        }

        Assert.Contains(secrets, secret => Verifies(delivery, secret, delivery.Headers["webhook-signature"]));
    }

    private static bool Verifies(WebhookReceiver.Delivery delivery, string secret, string signatureHeader)
    {
        var headers = new HeaderDictionary
        {
            ["webhook-id"] = delivery.Headers["webhook-id"],
            ["webhook-timestamp"] = delivery.Headers["webhook-timestamp"],
            ["webhook-signature"] = signatureHeader,
        };
        try
        {
            new StandardWebhook(secret).Verify(delivery.Text, headers);
            return true;
        }
        catch (StandardWebhooks.Diagnostics.WebhookVerificationException)
        {
            return false;
        }
    }

    private static async Task<JsonObject> GetAsync(HttpClient admin, string path)
    {
        using var response = await admin.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<JsonObject> PostAsync(HttpClient admin, string path, object? body = null)
    {
        using var response = body is null ? await admin.PostAsync(path, null) : await admin.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task VoteAllAsync(HttpClient client, string poll, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            using var vote = await client.VoteAsync(poll, [1 + (i % 2)], "voter" + i);
            Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
        }
    }

    [Fact]
    public async Task Every_vote_reaches_the_receiver_once_signed_in_seq_order_with_the_poll_and_its_position()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(Fast);
        var (_, secret) = await CreateAsync(server.Admin, receiver.Url, ["poll.created", "vote.counted", "poll.closed"]);

        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        await VoteAllAsync(server.Client, poll, 0, 40);
        using (var close = await server.Admin.PostAsync($"/v1/polls/{poll}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        await receiver.WaitForAsync(r => r.Taken.Count >= 42, Timeout, "42 messages");
        var taken = receiver.Taken;
        Assert.Equal(42, taken.Count);
        Assert.Equal(["poll.created", .. Enumerable.Repeat("vote.counted", 40), "poll.closed"], taken.Select(d => d.Type));
        Assert.Equal(Enumerable.Range(1, 42).Select(s => (long)s), taken.Select(d => (long)d.Data["seq"]!));
        Assert.Equal(Enumerable.Range(1, 42).Select(s => $"msg_{poll}_{s}"), taken.Select(d => d.Id));
        Assert.All(taken, d => Assert.Equal(poll, (string)d.Data["pollId"]!));
        var positions = taken.Select(d => (long)d.Data["position"]!).ToArray();
        Assert.Equal(positions.Order(), positions);
        Assert.Equal(positions.Length, positions.Distinct().Count());
        foreach (var d in taken)
        {
            AssertSigned(d, secret);
            Assert.Equal("application/json", d.Headers["Content-Type"]);
        }

        var first = taken[1].Data;
        Assert.Equal($"{poll}-2", (string)first["voteId"]!);
        Assert.Equal([1], first["optionIds"]!.AsArray().Select(n => (int)n!));
        Assert.Matches("^h:[0-9a-f]{32}$", (string)first["voter"]!); // hashed by default, as exports do
        Assert.Equal("admin", (string)taken[^1].Data["reason"]!);

        // A tampered body fails the same verifier.
        var forged = taken[1] with { Body = System.Text.Encoding.UTF8.GetBytes(taken[1].Text.Replace("\"optionIds\":[1]", "\"optionIds\":[2]", StringComparison.Ordinal)) };
        Assert.ThrowsAny<Exception>(() => AssertSigned(forged, secret));

        // The delivery log shows each message once, succeeded; the cursor is past the last.
        var log = await GetAsync(server.Admin, $"/v1/workspaces/default/webhooks/{(await GetAsync(server.Admin, "/v1/workspaces/default/webhooks"))["items"]![0]!["id"]}/deliveries?limit=100");
        Assert.Equal(42, log["items"]!.AsArray().Count);
        Assert.All(log["items"]!.AsArray(), a => Assert.Equal((true, 200, 1), ((bool)a!["succeeded"]!, (int)a["status"]!, (int)a["attempt"]!)));
    }

    [Fact]
    public async Task A_receiver_that_fails_gets_every_message_later_in_order_and_the_log_shows_the_retries()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(Fast);
        var (id, secret) = await CreateAsync(server.Admin, receiver.Url, ["vote.counted"], voters: "raw");
        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        receiver.Answer = 503;

        await VoteAllAsync(server.Client, poll, 0, 20);
        await receiver.WaitForAsync(r => r.All.Count >= 4, Timeout, "four failed attempts");
        Assert.All(receiver.All, d => Assert.Equal($"msg_{poll}_2", d.Id)); // in order: nothing after the failing one
        receiver.Answer = 200;

        await receiver.WaitForAsync(r => r.Taken.Count >= 20, Timeout, "20 votes");
        Assert.Equal(Enumerable.Range(2, 20).Select(s => $"msg_{poll}_{s}"), receiver.Taken.Select(d => d.Id));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => "voter" + i), receiver.Taken.Select(d => (string)d.Data["voter"]!));
        Assert.All(receiver.All, d => AssertSigned(d, secret));

        var attempts = (await GetAsync(server.Admin, $"/v1/workspaces/default/webhooks/{id}/deliveries?limit=100"))["items"]!.AsArray();
        var firstMessage = attempts.Where(a => (string)a!["messageId"]! == $"msg_{poll}_2").OrderBy(a => (int)a!["attempt"]!).ToArray();
        Assert.True(firstMessage.Length >= 5);
        Assert.Equal(Enumerable.Range(1, firstMessage.Length), firstMessage.Select(a => (int)a!["attempt"]!));
        Assert.All(firstMessage[..^1], a => Assert.Equal((503, false, "answered 503"), ((int)a!["status"]!, (bool)a["succeeded"]!, (string?)a["error"])));
        Assert.True((bool)firstMessage[^1]!["succeeded"]!);
    }

    [Fact]
    public async Task A_persistent_failure_disables_the_endpoint_and_enabling_it_resumes_where_it_stopped()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(new Dictionary<string, string>(Fast) { ["Tally:Webhooks:RetryFor"] = "00:00:00.500" });
        var (id, _) = await CreateAsync(server.Admin, receiver.Url, ["vote.counted"]);
        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        receiver.Answer = 500;

        await VoteAllAsync(server.Client, poll, 0, 5);
        var path = $"/v1/workspaces/default/webhooks/{id}";
        await Eventually.WaitUntilAsync(async () => !(bool)(await GetAsync(server.Admin, path))["enabled"]!, Timeout); // the endpoint disabled
        var disabled = await GetAsync(server.Admin, path);
        Assert.Contains($"msg_{poll}_2 failed for", (string)disabled["disabledReason"]!, StringComparison.Ordinal);
        Assert.NotNull(disabled["disabledAt"]);

        // Disabled: votes go on, nothing is sent.
        await VoteAllAsync(server.Client, poll, 5, 5);
        var sent = receiver.All.Count;
        receiver.Answer = 200;
        var enabled = await PostAsync(server.Admin, path + "/enable");
        Assert.True((bool)enabled["enabled"]!);
        Assert.Null(enabled["disabledReason"]);

        await receiver.WaitForAsync(r => r.Taken.Count >= 10, Timeout, "every vote after enabling");
        Assert.Equal(Enumerable.Range(2, 10).Select(s => $"msg_{poll}_{s}"), receiver.Taken.Select(d => d.Id));
        Assert.True(sent >= 2);

        // A 410 Gone disables at once.
        receiver.Answer = 410;
        await VoteAllAsync(server.Client, poll, 10, 1);
        await Eventually.WaitUntilAsync(async () => (string?)(await GetAsync(server.Admin, path))["disabledReason"] == "the receiver answered 410 Gone", Timeout);
    }

    [Fact]
    public async Task A_rotated_secret_signs_beside_the_new_one_until_the_overlap_ends()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(Fast);
        var (id, old) = await CreateAsync(server.Admin, receiver.Url, ["vote.counted"]);
        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        await VoteAllAsync(server.Client, poll, 0, 1);
        await receiver.WaitForAsync(r => r.Taken.Count >= 1, Timeout, "the first vote");
        Assert.Single(receiver.Taken[0].Headers["webhook-signature"].Split(' '));

        var rotated = await PostAsync(server.Admin, $"/v1/workspaces/default/webhooks/{id}/rotate-secret");
        var fresh = (string)rotated["secret"]!;
        Assert.NotEqual(old, fresh);
        var secrets = rotated["webhook"]!["secrets"]!.AsArray();
        Assert.Equal(2, secrets.Count);
        Assert.Null(secrets[0]!["expiresAt"]);
        Assert.NotNull(secrets[1]!["expiresAt"]);
        Assert.DoesNotContain("whsec_", rotated["webhook"]!.ToJsonString(), StringComparison.Ordinal);

        await VoteAllAsync(server.Client, poll, 1, 1);
        await receiver.WaitForAsync(r => r.Taken.Count >= 2, Timeout, "the vote after rotating");
        var both = receiver.Taken[1];
        Assert.Equal(2, both.Headers["webhook-signature"].Split(' ').Length);
        AssertSigned(both, old, fresh); // a receiver on either secret accepts it
        Assert.True(Verifies(both, fresh, both.Headers["webhook-signature"])); // the newest signs first
        AssertSigned(receiver.Taken[0], old);
        Assert.ThrowsAny<Exception>(() => AssertSigned(receiver.Taken[0], fresh));
    }

    [Fact]
    public async Task A_replay_sends_every_event_again_with_the_ids_it_had()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(Fast);
        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        await VoteAllAsync(server.Client, poll, 0, 6);

        // from "start": the events before the endpoint existed too.
        var (id, secret) = await CreateAsync(server.Admin, receiver.Url, ["poll.created", "vote.counted"], from: "start");
        await receiver.WaitForAsync(r => r.Taken.Count >= 7, Timeout, "the poll and six votes");
        var firstPass = receiver.Taken.Select(d => (d.Id, d.Text)).ToArray();
        var positionOfThird = (long)receiver.Taken[2].Data["position"]!;

        var replay = await PostAsync(server.Admin, $"/v1/workspaces/default/webhooks/{id}/replay", new { afterPosition = positionOfThird });
        Assert.Equal(positionOfThird, (long)replay["cursor"]!);
        await receiver.WaitForAsync(r => r.Taken.Count >= 11, Timeout, "the replayed votes");
        Assert.Equal(firstPass, receiver.Taken.Take(7).Select(d => (d.Id, d.Text)));
        Assert.Equal(firstPass[3..], receiver.Taken.Skip(7).Select(d => (d.Id, d.Text))); // same ids, same bodies
        Assert.All(receiver.Taken, d => AssertSigned(d, secret));

        using var tooFar = await server.Admin.PostAsJsonAsync($"/v1/workspaces/default/webhooks/{id}/replay", new { afterPosition = long.MaxValue });
        await ApiClient.AssertProblemAsync(tooFar, HttpStatusCode.UnprocessableEntity, "validation");
    }

    [Fact]
    public async Task A_receiver_down_while_the_server_restarts_loses_nothing()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(Fast);
        var (_, secret) = await CreateAsync(server.Admin, receiver.Url, ["vote.counted"]);
        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        await VoteAllAsync(server.Client, poll, 0, 10);
        await receiver.WaitForAsync(r => r.Taken.Count >= 10, Timeout, "the first ten");
        receiver.Answer = 503;
        await VoteAllAsync(server.Client, poll, 10, 10);
        await receiver.WaitForAsync(r => r.All.Count >= 12, Timeout, "failures");

        await server.RestartAsync();
        await VoteAllAsync(server.Client, poll, 20, 10);
        receiver.Answer = 200;

        await receiver.WaitForAsync(r => r.Taken.Select(d => d.Id).Distinct().Count() >= 30, Timeout, "all 30");
        var ids = receiver.Taken.Select(d => d.Id).ToArray();
        Assert.Equal(Enumerable.Range(2, 30).Select(s => $"msg_{poll}_{s}"), ids.Distinct());
        Assert.Equal(ids.Distinct().Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal).Distinct()); // at least once; in order
        Assert.All(receiver.Taken, d => AssertSigned(d, secret)); // the secret survived the restart (sealed in SQLite)
    }

    [Fact]
    public async Task An_endpoint_gets_only_its_workspace_and_its_event_types()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var other = await WebhookReceiver.StartAsync();
        await using var server = await TestServer.StartAsync(Fast);
        using (var workspace = await server.Admin.PostAsJsonAsync("/v1/workspaces", new { id = "acme", name = "Acme" }))
        {
            Assert.Equal(HttpStatusCode.Created, workspace.StatusCode);
        }

        await CreateAsync(server.Admin, receiver.Url, ["poll.closed"]);
        await CreateAsync(server.Admin, other.Url, ["poll.created", "poll.closed"], workspace: "acme");
        var poll = (string)(await server.Admin.CreatePollAsync())["id"]!;
        await VoteAllAsync(server.Client, poll, 0, 3);
        using (var close = await server.Admin.PostAsync($"/v1/polls/{poll}/close", null))
        {
            Assert.Equal(HttpStatusCode.OK, close.StatusCode);
        }

        await receiver.WaitForAsync(r => r.Taken.Count >= 1, Timeout, "poll.closed");
        Assert.Equal(["poll.closed"], receiver.Taken.Select(d => d.Type));
        Assert.Equal(5, (long)receiver.Taken[0].Data["seq"]!);

        // The other workspace's endpoint saw nothing of the default workspace's poll (a poll after it shows the feed has passed).
        using var acme = new HttpClient { BaseAddress = server.BaseAddress };
        acme.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestServer.AdminKey);
        acme.DefaultRequestHeaders.Add("Tally-Workspace", "acme");
        var acmePoll = (string)(await acme.CreatePollAsync())["id"]!;
        await other.WaitForAsync(r => r.Taken.Count >= 1, Timeout, "acme's poll.created");
        Assert.Equal([(acmePoll, "poll.created")], other.Taken.Select(d => ((string)d.Data["pollId"]!, d.Type)));
        Assert.Equal("acme", (string)other.Taken[0].Data["workspace"]!);
    }
}
