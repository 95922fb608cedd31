using System.Text;
using Tally.Access;
using Tally.Server.Contracts;

namespace Tally.Server.Access;

/// <summary>Validates what a client sends for a workspace: names, JWT issuer settings, origins. Every failure is reported, per field.</summary>
internal static class WorkspaceRules
{
    public const int MaxNameLength = 100;
    public const int MaxOrigins = 50;
    public const int MinHmacSecretBytes = 32;

    public static string? Name(string? name, string fallback, Dictionary<string, string[]> errors)
    {
        if (name is null)
        {
            return fallback;
        }

        var trimmed = name.Trim();
        if (trimmed.Length is 0 or > MaxNameLength || trimmed.Any(char.IsControl))
        {
            errors["name"] = [$"name is 1 to {MaxNameLength} printable characters."];
            return null;
        }

        return trimmed;
    }

    public static WorkspaceSettings? Settings(WorkspaceSettingsBody? body, bool jwksRequireHttps, Dictionary<string, string[]> errors)
    {
        if (body is null)
        {
            return WorkspaceSettings.Empty;
        }

        JwtSettings? jwt = null;
        if (body.Jwt is { } j)
        {
            jwt = Jwt(j, jwksRequireHttps, errors);
        }

        var origins = Origins(body.AllowedOrigins, "settings.allowedOrigins", allowAny: true, errors);
        var embedders = Origins(body.Embedders, "settings.embedders", allowAny: false, errors);
        var blocked = BlockedTerms(body.BlockedTerms, errors);
        return errors.Count > 0 ? null : new WorkspaceSettings(jwt, origins, embedders, blocked);
    }

    public const int MaxBlockedTerms = 1000;

    /// <summary>The block list, each term normalised as an answer's terms are (<see cref="Polls.TextTerms"/>), distinct.</summary>
    private static List<string> BlockedTerms(List<string?>? terms, Dictionary<string, string[]> errors)
    {
        var blocked = new List<string>();
        if (terms is null)
        {
            return blocked;
        }

        if (terms.Count > MaxBlockedTerms)
        {
            errors["settings.blockedTerms"] = [$"At most {MaxBlockedTerms} blocked terms."];
            return blocked;
        }

        for (var i = 0; i < terms.Count; i++)
        {
            if (terms[i] is not { Length: > 0 and <= Polls.TextTerms.MaxTermLength } raw || Polls.TextTerms.NormalizeBlocked(raw) is not { } term)
            {
                errors[$"settings.blockedTerms[{i}]"] = [$"A blocked term is one word of {Polls.TextTerms.MinTermLength} to {Polls.TextTerms.MaxTermLength} letters or digits (not a stop word of no language)."];
                continue;
            }

            if (!blocked.Contains(term))
            {
                blocked.Add(term);
            }
        }

        return blocked;
    }

    private static JwtSettings? Jwt(JwtSettingsBody body, bool jwksRequireHttps, Dictionary<string, string[]> errors)
    {
        var issuer = body.Issuer?.Trim();
        if (string.IsNullOrEmpty(issuer) || issuer.Length > 256)
        {
            errors["settings.jwt.issuer"] = ["issuer is required: the iss of the workspace's tokens, at most 256 characters."];
        }
        else if (issuer == TallyTokens.Issuer)
        {
            errors["settings.jwt.issuer"] = [$"{TallyTokens.Issuer} is Tally's own issuer."];
        }

        if (body.Audience is { } audience && (audience.Length is 0 or > 256))
        {
            errors["settings.jwt.audience"] = ["audience is 1 to 256 characters, or left out for the server's default."];
        }

        if ((body.HmacSecret is null) == (body.JwksUrl is null))
        {
            errors["settings.jwt"] = ["Give exactly one of hmacSecret (HS256) and jwksUrl (RS256 / ES256)."];
        }
        else if (body.HmacSecret is { } secret && (Encoding.UTF8.GetByteCount(secret) < MinHmacSecretBytes || secret.Length > 512))
        {
            errors["settings.jwt.hmacSecret"] = [$"hmacSecret is {MinHmacSecretBytes} to 512 bytes: a short HS256 secret can be guessed offline."];
        }
        else if (body.JwksUrl is { } url
            && (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || !(uri.Scheme == Uri.UriSchemeHttps || (!jwksRequireHttps && uri.Scheme == Uri.UriSchemeHttp))))
        {
            errors["settings.jwt.jwksUrl"] = [jwksRequireHttps ? "jwksUrl is an absolute https URL." : "jwksUrl is an absolute http(s) URL."];
        }

        return errors.Keys.Any(k => k.StartsWith("settings.jwt", StringComparison.Ordinal))
            ? null
            : new JwtSettings(issuer!, body.Audience, body.HmacSecret, body.JwksUrl);
    }

    private static string[] Origins(List<string?>? given, string field, bool allowAny, Dictionary<string, string[]> errors)
    {
        if (given is null)
        {
            return [];
        }

        if (given.Count > MaxOrigins)
        {
            errors[field] = [$"At most {MaxOrigins} origins."];
            return [];
        }

        var origins = new List<string>(given.Count);
        for (var i = 0; i < given.Count; i++)
        {
            var origin = given[i];
            if (allowAny && origin == "*")
            {
                origins.Add(origin);
            }
            else if (Normalize(origin) is { } normal)
            {
                origins.Add(normal);
            }
            else
            {
                errors[$"{field}[{i}]"] = ["An origin is scheme://host[:port], with no path, e.g. https://app.example.com" + (allowAny ? " (or * for any)." : ".")];
            }
        }

        return [.. origins.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The origin in its serialized form (lowercase scheme and host, default port dropped), or null when it is not one.</summary>
    public static string? Normalize(string? origin)
    {
        if (origin is null || origin.Length > 256 || !Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || uri.PathAndQuery != "/" || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
        {
            return null;
        }

        return uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
    }
}
