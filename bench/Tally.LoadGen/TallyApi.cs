using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>The few Tally calls around a run: create the polls before, read their totals after.</summary>
internal sealed class TallyApi(HttpClient client, Uri baseUrl, string adminKey)
{
    /// <param name="kind">single (3 options), rating (1–5), ranking (10 options) or text (answers up to 120 characters, English stop words).</param>
    public async Task<string> CreatePollAsync(string question, CancellationToken cancellationToken, string kind = "single")
    {
        var shape = kind switch
        {
            "rating" => "\"kind\":\"rating\",\"scale\":{\"min\":1,\"max\":5}",
            "ranking" => "\"kind\":\"ranking\",\"options\":[\"A\",\"B\",\"C\",\"D\",\"E\",\"F\",\"G\",\"H\",\"I\",\"J\"]",
            "text" => "\"kind\":\"text\",\"maxLength\":120,\"language\":\"en\"",
            _ => "\"options\":[\"A\",\"B\",\"C\"]",
        };
        var body = $$"""{"question":{{JsonSerializer.Serialize(question, LoadGenJsonContext.Default.String)}},{{shape}},"dedupe":"none"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/v1/polls"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Creating a poll answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("id").GetString() ?? throw new InvalidOperationException("The created poll has no id: " + text);
    }

    /// <summary>Sends <paramref name="body"/> (JSON) to <paramref name="path"/> as the admin; the answer's JSON text, or throws unless it is <paramref name="expected"/>.</summary>
    public async Task<string> PostAsync(string path, string? body, CancellationToken cancellationToken, HttpStatusCode expected = HttpStatusCode.OK, bool asAdmin = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, path))
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (asAdmin)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        }

        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.StatusCode == expected ? text : throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {text}");
    }

    public async Task<long> TotalVotesAsync(string pollId, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(new Uri(baseUrl, $"/v1/polls/{pollId}/results"), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Reading the results of {pollId} answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("totalVotes").GetInt64();
    }

    /// <summary><c>GET /v1/polls/{id}/results</c>: the seq, the total and each option's votes (indexed by option id).</summary>
    public async Task<ServedResults> ResultsAsync(string pollId, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(new Uri(baseUrl, $"/v1/polls/{pollId}/results"), cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"Reading the results of {pollId} answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        var counts = new long[Watcher.MaxOptionId + 1];
        foreach (var option in root.GetProperty("options").EnumerateArray())
        {
            counts[option.GetProperty("id").GetInt32()] = option.GetProperty("votes").GetInt64();
        }

        return new ServedResults(root.GetProperty("seq").GetInt64(), root.GetProperty("totalVotes").GetInt64(), counts);
    }

    /// <summary>One vote for <paramref name="optionId"/> (the polls have dedupe "none"); returns the seq its 201 answer carries.</summary>
    public async Task<long> VoteAsync(string pollId, int optionId, CancellationToken cancellationToken)
    {
        using var content = new StringContent($$"""{"optionIds":[{{optionId}}]}""", Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri(baseUrl, $"/v1/polls/{pollId}/votes"), content, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"A vote on {pollId} answered {(int)response.StatusCode}: {text}");
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("seq").GetInt64();
    }
}

/// <summary>What <c>GET /results</c> served: <see cref="Counts"/> is indexed by option id.</summary>
internal sealed record ServedResults(long Seq, long TotalVotes, long[] Counts);
