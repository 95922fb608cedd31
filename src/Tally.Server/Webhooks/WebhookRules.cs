using System.Net;
using Tally.Webhooks;

namespace Tally.Server.Webhooks;

/// <summary>What a webhook endpoint's fields may hold.</summary>
internal static class WebhookRules
{
    public const int MaxUrlLength = 2000;
    public const int MaxDescriptionLength = 200;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>An endpoint id: <c>wh_</c> and 16 lower-case hex digits.</summary>
    public static bool IsId(string? id) => id is { Length: 19 } && id.StartsWith("wh_", StringComparison.Ordinal) && id.AsSpan(3).IndexOfAnyExcept(HexDigits) < 0;

    public static WebhookEvents EventTypes(List<string?>? names, bool required, Dictionary<string, string[]> errors)
    {
        if (names is not { Count: > 0 })
        {
            if (required)
            {
                errors["eventTypes"] = [$"eventTypes is a non-empty list of {string.Join(", ", WebhookEventTypes.All)}."];
            }

            return WebhookEvents.None;
        }

        var types = WebhookEvents.None;
        for (var i = 0; i < names.Count && i < 100; i++)
        {
            var type = WebhookEventTypes.Parse(names[i]);
            if (type == WebhookEvents.None)
            {
                errors[$"eventTypes[{i}]"] = [$"An event type is one of {string.Join(", ", WebhookEventTypes.All)}."];
            }

            types |= type;
        }

        if (names.Count > 100)
        {
            errors["eventTypes"] = ["eventTypes has at most 100 entries."];
        }

        return types;
    }

    public static WebhookVoters Voters(string? name, Dictionary<string, string[]> errors)
    {
        switch (name)
        {
            case null or "hashed":
                return WebhookVoters.Hashed;
            case "raw":
                return WebhookVoters.Raw;
            case "omitted":
                return WebhookVoters.Omitted;
            default:
                errors["voters"] = ["voters is \"hashed\" (the default: the export's hash), \"raw\" or \"omitted\"."];
                return WebhookVoters.Hashed;
        }
    }

    public static string? Description(string? description, Dictionary<string, string[]> errors)
    {
        var trimmed = description?.Trim();
        if (trimmed is { Length: > MaxDescriptionLength } || (trimmed is not null && trimmed.Any(char.IsControl)))
        {
            errors["description"] = [$"description is at most {MaxDescriptionLength} printable characters."];
            return null;
        }

        return string.IsNullOrEmpty(trimmed) ? null : trimmed;
    }

    /// <summary>The URL when it is well formed (absolute, https — or http when allowed —, a host, no user info or fragment).</summary>
    public static Uri? Url(string? text, WebhookOptions options, Dictionary<string, string[]> errors)
    {
        var schemes = options.AllowHttp ? "https or http" : "https";
        if (string.IsNullOrEmpty(text) || text.Length > MaxUrlLength || !Uri.TryCreate(text, UriKind.Absolute, out var url)
            || !(url.Scheme == Uri.UriSchemeHttps || (options.AllowHttp && url.Scheme == Uri.UriSchemeHttp))
            || string.IsNullOrEmpty(url.Host) || url.UserInfo.Length > 0 || url.Fragment.Length > 0 || text.Any(char.IsControl))
        {
            errors["url"] = [$"url is an absolute {schemes} URL of at most {MaxUrlLength} characters, with a host and no user info or fragment."];
            return null;
        }

        return url;
    }

    /// <summary>
    /// Why the URL's host may not receive webhooks (a loopback, private or special-purpose address, or a name that
    /// resolves to one), or null. A name that does not resolve now is accepted: every connection is checked again.
    /// </summary>
    public static async Task<string?> RefusedHostAsync(Uri url, WebhookOptions options, CancellationToken cancellationToken)
    {
        if (options.AllowPrivateNetworks)
        {
            return null;
        }

        var host = url.DnsSafeHost;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return $"{url.Host} is this machine; webhooks go to public addresses only (an operator may allow private networks: Tally:Webhooks:AllowPrivateNetworks).";
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                addresses = await Dns.GetHostAddressesAsync(host, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }

        return addresses.FirstOrDefault(a => !WebhookAddresses.IsPublic(a)) is { } refused
            ? $"{url.Host} is (or resolves to) {refused}, a loopback, private or special-purpose address; webhooks go to public addresses only (an operator may allow private networks: Tally:Webhooks:AllowPrivateNetworks)."
            : null;
    }
}
