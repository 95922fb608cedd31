using System.Text.Json;

namespace Tally.Access;

/// <summary>
/// <see cref="WorkspaceSettings"/> as the JSON document the storage adapters keep in one column:
/// <c>{"jwt":{"issuer":…,"audience":…,"hmacSecret":…,"jwksUrl":…},"allowedOrigins":[…],"embedders":[…],"blockedTerms":[…]}</c>.
/// Null members are left out; a missing member reads as null (or an empty list), and an unknown one is skipped, so
/// a settings field added later needs no schema change. Public for the <see cref="IAccessStore"/> adapters, so that
/// every store keeps the same document.
/// </summary>
public static class WorkspaceSettingsJson
{
    /// <summary>The settings as the JSON document above.</summary>
    public static string Encode(WorkspaceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (settings.Jwt is { } jwt)
            {
                json.WriteStartObject("jwt");
                json.WriteString("issuer", jwt.Issuer);
                WriteIfSet(json, "audience", jwt.Audience);
                WriteIfSet(json, "hmacSecret", jwt.HmacSecret);
                WriteIfSet(json, "jwksUrl", jwt.JwksUrl);
                json.WriteEndObject();
            }

            WriteList(json, "allowedOrigins", settings.AllowedOrigins);
            WriteList(json, "embedders", settings.Embedders);
            if (settings.BlockedTerms is { Count: > 0 } blocked)
            {
                WriteList(json, "blockedTerms", blocked);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The settings a document written by <see cref="Encode"/> (by this version or another) holds; <see cref="JsonException"/> when it is not one.</summary>
    public static WorkspaceSettings Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        JwtSettings? jwt = null;
        if (root.TryGetProperty("jwt", out var j) && j.ValueKind == JsonValueKind.Object)
        {
            jwt = new JwtSettings(
                ReadString(j, "issuer") ?? throw new JsonException("Workspace settings name a JWT issuer without its issuer."),
                ReadString(j, "audience"),
                ReadString(j, "hmacSecret"),
                ReadString(j, "jwksUrl"));
        }

        return new WorkspaceSettings(jwt, ReadList(root, "allowedOrigins"), ReadList(root, "embedders"), ReadList(root, "blockedTerms"));
    }

    private static void WriteIfSet(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteList(Utf8JsonWriter json, string name, IReadOnlyList<string>? values)
    {
        json.WriteStartArray(name);
        foreach (var value in values ?? [])
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static string? ReadString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string[] ReadList(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var list) || list.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var values = new string[list.GetArrayLength()];
        var i = 0;
        foreach (var value in list.EnumerateArray())
        {
            values[i++] = value.GetString() ?? throw new JsonException($"Workspace settings' {name} holds a null.");
        }

        return values;
    }
}
