using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>Small helpers over the HTTP API that tests share. They parse JSON loosely, as a client in any language would.</summary>
public static class ApiClient
{
    public static async Task<JsonObject> CreatePollAsync(this HttpClient admin, object body)
    {
        using var response = await admin.PostAsJsonAsync("/v1/polls", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create poll: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static Task<JsonObject> CreatePollAsync(this HttpClient admin, int options = 3, string dedupe = "voter", bool allowChange = false, string kind = "single") =>
        admin.CreatePollAsync(new
        {
            question = "Which one?",
            options = Enumerable.Range(1, options).Select(i => "Option " + i).ToArray(),
            kind,
            dedupe,
            allowChange,
        });

    public static Task<HttpResponseMessage> VoteAsync(this HttpClient client, string pollId, int[] optionIds, string? voterId, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/polls/{pollId}/votes")
        {
            Content = JsonContent.Create(new { optionIds, voterId }),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string path, string body, string? contentType = "application/json") =>
        client.PostRawAsync(path, Encoding.UTF8.GetBytes(body), contentType);

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string path, byte[] body, string? contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return client.PostAsync(path, content);
    }

    public static async Task<JsonObject> ResultsAsync(this HttpClient client, string pollId)
    {
        var text = await client.GetStringAsync($"/v1/polls/{pollId}/results");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Votes per option id from a results document.</summary>
    public static Dictionary<int, long> Counts(JsonObject results) =>
        results["options"]!.AsArray().ToDictionary(o => (int)o!["id"]!, o => (long)o!["votes"]!);

    /// <summary>Asserts the response is problem+json with the given status and type slug; returns the document.</summary>
    public static async Task<JsonObject> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string slug)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {slug}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.Equal("urn:tally:problem:" + slug, (string?)problem["type"]);
        Assert.Equal((int)status, (int)problem["status"]!);
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)problem["detail"]));
        return problem;
    }

    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)?.AsObject() ?? throw new JsonException("empty body: " + text);
    }
}
