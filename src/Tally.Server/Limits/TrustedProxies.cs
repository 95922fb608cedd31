using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Options;

namespace Tally.Server.Limits;

/// <summary>
/// The trusted proxies of <see cref="ProxyOptions"/>, parsed: ASP.NET Core's forwarded-headers middleware honours
/// <c>X-Forwarded-For</c> only from them (its own default trusts loopback only, and <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c>
/// would trust everyone: Tally sets the list itself either way), and the per-address connection cap does not count them.
/// </summary>
internal sealed class TrustedProxies : IConfigureOptions<ForwardedHeadersOptions>
{
    private readonly IPNetwork[] _networks;

    public TrustedProxies(IOptions<ProxyOptions> options)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in options.Value.Trusted)
        {
            if (TryParse(entry, out var network))
            {
                networks.Add(network); // a bad entry stopped the server at start (ProxyValidation)
            }
        }

        _networks = [.. networks];
    }

    public IReadOnlyList<IPNetwork> Networks => _networks;

    public bool IsTrusted(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var network in _networks)
        {
            if (network.Contains(plain))
            {
                return true;
            }
        }

        return false;
    }

    public void Configure(ForwardedHeadersOptions options)
    {
        // No proxy trusted: no header read at all (the middleware would read every one with empty lists: that is "trust all").
        // X-Forwarded-Proto too: behind a trusted proxy that ends TLS the request counts as HTTPS (the voter cookie is
        // Secure, HSTS is sent).
        options.ForwardedHeaders = _networks.Length == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.KnownIPNetworks.Clear();
        options.KnownProxies.Clear();
        foreach (var network in _networks)
        {
            options.KnownIPNetworks.Add(network);
        }

        // Every hop of X-Forwarded-For is read from the right while it came from a trusted proxy: one proxy, or a chain of them.
        options.ForwardLimit = null;
    }

    /// <summary>An address (<c>10.0.0.5</c>, <c>::1</c>) or a CIDR range (<c>10.0.0.0/8</c>) with no bits set past its prefix (<c>10.0.0.1/8</c> is a typo, not a range).</summary>
    public static bool TryParse(string entry, out IPNetwork network)
    {
        network = default;
        var text = entry.Trim();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
        {
            return false;
        }

        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        var bits = plain.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        plain.TryWriteBytes(bytes, out var length);
        for (var bit = prefix; bit < length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return false;
            }
        }

        network = new IPNetwork(plain, prefix);
        return true;
    }
}
