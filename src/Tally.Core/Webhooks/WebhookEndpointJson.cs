using System.Text.Json;

namespace Tally.Webhooks;

/// <summary>
/// The stored form of an endpoint's settings and state (everything but its id, workspace, creation time and cursor,
/// which stores keep in columns): a JSON document, so a field added later needs no migration. Secrets are sealed bytes.
/// </summary>
public static class WebhookEndpointJson
{
    public static string Encode(WebhookEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("url", endpoint.Url);
            json.WriteNumber("events", (int)endpoint.Events);
            if (endpoint.Description is { } description)
            {
                json.WriteString("description", description);
            }

            json.WriteNumber("voters", (int)endpoint.Voters);
            json.WriteBoolean("enabled", endpoint.Enabled);
            if (endpoint.DisabledReason is { } reason)
            {
                json.WriteString("disabledReason", reason);
            }

            if (endpoint.DisabledAt is { } disabledAt)
            {
                json.WriteNumber("disabledAt", disabledAt.ToUnixTimeMilliseconds());
            }

            json.WriteStartArray("secrets");
            foreach (var secret in endpoint.Secrets)
            {
                json.WriteStartObject();
                json.WriteBase64String("sealed", secret.Sealed);
                json.WriteNumber("createdAt", secret.CreatedAt.ToUnixTimeMilliseconds());
                if (secret.ExpiresAt is { } expires)
                {
                    json.WriteNumber("expiresAt", expires.ToUnixTimeMilliseconds());
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static WebhookEndpoint Decode(string id, string workspace, DateTimeOffset createdAt, long cursor, string document)
    {
        using var json = JsonDocument.Parse(document);
        var root = json.RootElement;
        var secrets = new List<WebhookSecret>();
        foreach (var s in root.GetProperty("secrets").EnumerateArray())
        {
            secrets.Add(new WebhookSecret(
                s.GetProperty("sealed").GetBytesFromBase64(),
                DateTimeOffset.FromUnixTimeMilliseconds(s.GetProperty("createdAt").GetInt64()),
                s.TryGetProperty("expiresAt", out var x) ? DateTimeOffset.FromUnixTimeMilliseconds(x.GetInt64()) : null));
        }

        return new WebhookEndpoint(
            id,
            workspace,
            root.GetProperty("url").GetString()!,
            (WebhookEvents)root.GetProperty("events").GetInt32(),
            secrets,
            createdAt,
            root.TryGetProperty("description", out var d) ? d.GetString() : null,
            (WebhookVoters)root.GetProperty("voters").GetInt32(),
            root.GetProperty("enabled").GetBoolean(),
            root.TryGetProperty("disabledReason", out var r) ? r.GetString() : null,
            root.TryGetProperty("disabledAt", out var a) ? DateTimeOffset.FromUnixTimeMilliseconds(a.GetInt64()) : null,
            cursor);
    }
}
