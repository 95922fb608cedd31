using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Tally.Server.Hosting;

/// <summary>
/// Where the server listens: the main URLs (<c>--urls</c> / <c>ASPNETCORE_URLS</c>) take HTTP/1.1, and
/// HTTP/2 too over TLS; the gRPC URLs (<c>TALLY_GRPC_URLS</c>) take HTTP/2 only. Every <c>https://</c> URL of
/// either set uses the certificate of <c>TALLY_TLS_CERT</c> / <c>TALLY_TLS_KEY</c> when they are set (see
/// <see cref="ServerCertificate"/>), else Kestrel's default certificate. Cleartext gRPC clients open with
/// HTTP/2 prior knowledge (h2c), which Kestrel refuses on a cleartext endpoint that also takes HTTP/1.1,
/// so gRPC gets its own port. Both sets are configured here as Kestrel endpoints, because Kestrel
/// ignores <c>UseUrls</c> once any endpoint is configured in code.
/// </summary>
internal sealed class ServerListeners
{
    /// <summary>Configuration key (and environment variable) of the gRPC URLs, <c>;</c>-separated.</summary>
    public const string GrpcUrlsKey = "TALLY_GRPC_URLS";

    public const string DefaultGrpcUrl = "http://localhost:8081";

    /// <summary>The main URL when none is set and a TLS certificate is (<c>TALLY_TLS_CERT</c>).</summary>
    public const string DefaultTlsUrl = "https://localhost:8443";

    private readonly List<ListenOptions> _http = [];
    private readonly List<ListenOptions> _grpc = [];

    private ServerListeners(IReadOnlyList<BindingAddress> httpUrls, IReadOnlyList<BindingAddress> grpcUrls, ServerCertificate? certificate)
    {
        HttpUrls = httpUrls;
        GrpcUrls = grpcUrls;
        Certificate = certificate;
    }

    public IReadOnlyList<BindingAddress> HttpUrls { get; }

    public IReadOnlyList<BindingAddress> GrpcUrls { get; }

    /// <summary>The certificate of the <c>https://</c> URLs; null when <c>TALLY_TLS_CERT</c> is not set.</summary>
    public ServerCertificate? Certificate { get; }

    /// <summary>The main endpoints' addresses; once the server has started, with the ports bound (port 0 resolved).</summary>
    public IReadOnlyList<Uri> HttpAddresses => Addresses(_http, HttpUrls);

    /// <summary>The gRPC endpoints' addresses; once the server has started, with the ports bound (port 0 resolved).</summary>
    public IReadOnlyList<Uri> GrpcAddresses => Addresses(_grpc, GrpcUrls);

    /// <summary>
    /// Reads both URL lists and the TLS certificate from configuration (an invalid URL or certificate fails here,
    /// naming its setting) and makes Kestrel listen on them. The main URLs default to <paramref name="defaultHttpUrl"/>,
    /// or <see cref="DefaultTlsUrl"/> when a certificate is set; the gRPC ones to <see cref="DefaultGrpcUrl"/>.
    /// </summary>
    public static ServerListeners Configure(WebApplicationBuilder builder, string defaultHttpUrl)
    {
        var configuration = builder.Configuration;
        var certificate = ServerCertificate.Load(configuration);
        var listeners = new ServerListeners(
            ParseList(WebHostDefaults.ServerUrlsKey, configuration[WebHostDefaults.ServerUrlsKey], certificate is null ? defaultHttpUrl : DefaultTlsUrl),
            ParseList(GrpcUrlsKey, configuration[GrpcUrlsKey], DefaultGrpcUrl),
            certificate);
        CheckDistinctPorts(listeners.HttpUrls, listeners.GrpcUrls);

        // Kestrel binds the endpoints below. The host would still hand it the URLs as addresses, which Kestrel
        // ignores with an "Overriding address(es)" warning; ";" is a non-empty setting (so neither the host's
        // own --urls nor HTTP_PORTS is used) that yields no address.
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, ";");
        builder.WebHost.ConfigureKestrel(listeners.Listen);
        builder.Services.AddSingleton(listeners);
        return listeners;
    }

    /// <summary>True when the request came in on a gRPC endpoint.</summary>
    public static bool IsGrpcListener(HttpContext context) => context.Features.Get<GrpcListenerFeature>() is not null;

    private void Listen(KestrelServerOptions kestrel)
    {
        _http.Clear();
        _grpc.Clear();
        // Resolved at the first connection, when the settings have been checked (Kestrel reads its options before that).
        var limits = new Lazy<Limits.ConnectionLimits>(kestrel.ApplicationServices.GetRequiredService<Limits.ConnectionLimits>);
        Func<ConnectionDelegate, ConnectionDelegate> counted = next => connection => limits.Value.OnConnectionAsync(connection, next);
        foreach (var url in HttpUrls)
        {
            // Kestrel's default protocols: HTTP/1.1 and HTTP/2 over TLS (ALPN), HTTP/1.1 in cleartext.
            Listen(kestrel, url, protocols: null, Certificate, _http, counted, tag: null);
        }

        foreach (var url in GrpcUrls)
        {
            Listen(kestrel, url, HttpProtocols.Http2, Certificate, _grpc, counted, tag: static next => connection =>
            {
                connection.Features.Set(GrpcListenerFeature.Instance);
                return next(connection);
            });
        }
    }

    private static void Listen(
        KestrelServerOptions kestrel,
        BindingAddress url,
        HttpProtocols? protocols,
        ServerCertificate? certificate,
        List<ListenOptions> into,
        Func<ConnectionDelegate, ConnectionDelegate> counted,
        Func<ConnectionDelegate, ConnectionDelegate>? tag)
    {
        void Configure(ListenOptions listen)
        {
            if (protocols is { } only)
            {
                listen.Protocols = only;
            }

            // Connections per address (Tally:Connections:MaxConnectionsPerIp), before TLS: one past the cap costs no handshake.
            listen.Use(counted);

            // Over TLS, HTTP/2 is negotiated with ALPN (a main port offers h2 and http/1.1, a gRPC port h2 only).
            if (url.Scheme == "https" && certificate is not null)
            {
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificate.Certificate,
                    ServerCertificateChain = certificate.Chain,
                });
            }
            else if (url.Scheme == "https")
            {
                listen.UseHttps(); // Kestrel's default certificate (Kestrel:Certificates:Default, or the development one)
            }

            if (tag is not null)
            {
                listen.Use(tag);
            }

            into.Add(listen);
        }

        // The same reading of a URL as Kestrel's own for UseUrls.
        if (url.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(url.UnixPipePath, Configure);
        }
        else if (string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(url.Port, Configure); // IPv4 and IPv6 loopback
        }
        else if (IPAddress.TryParse(url.Host, out var address))
        {
            kestrel.Listen(address, url.Port, Configure);
        }
        else
        {
            kestrel.ListenAnyIP(url.Port, Configure); // *, +, 0.0.0.0-style wildcards and host names
        }
    }

    private static List<BindingAddress> ParseList(string key, string? value, string defaultUrl)
    {
        var urls = string.IsNullOrWhiteSpace(value) ? [defaultUrl] : value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parsed = new List<BindingAddress>(urls.Length);
        foreach (var url in urls)
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"{key}: \"{url}\" is not a listen URL such as {defaultUrl} ({ex.Message})", ex);
            }

            if (address.Scheme is not ("http" or "https"))
            {
                throw new InvalidOperationException($"{key}: \"{url}\" must start with http:// or https://.");
            }

            if (!address.IsUnixPipe && address.PathBase.Length > 0 && address.PathBase != "/")
            {
                throw new InvalidOperationException($"{key}: \"{url}\" has a path; a listen URL is scheme://host:port.");
            }

            parsed.Add(address);
        }

        return parsed;
    }

    /// <summary>The two sets must not share a port: one socket cannot be both kinds of endpoint.</summary>
    private static void CheckDistinctPorts(IReadOnlyList<BindingAddress> http, IReadOnlyList<BindingAddress> grpc)
    {
        foreach (var g in grpc)
        {
            if (!g.IsUnixPipe && g.Port != 0 && http.Any(h => !h.IsUnixPipe && h.Port == g.Port))
            {
                throw new InvalidOperationException($"{GrpcUrlsKey}: port {g.Port} is also a main URL's port; gRPC needs a port of its own.");
            }
        }
    }

    private static List<Uri> Addresses(List<ListenOptions> bound, IReadOnlyList<BindingAddress> configured)
    {
        if (bound.Count != configured.Count)
        {
            return configured.Select(c => new Uri(c.ToString())).ToList(); // Kestrel has not read its options yet
        }

        var addresses = new List<Uri>(bound.Count);
        for (var i = 0; i < bound.Count; i++)
        {
            var url = configured[i];
            addresses.Add(bound[i].IPEndPoint is { } endpoint && !string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                ? new Uri($"{url.Scheme}://{endpoint}")
                : new Uri(url.ToString()));
        }

        return addresses;
    }

    /// <summary>Marks the connections of a gRPC endpoint; visible to each request through its features.</summary>
    private sealed class GrpcListenerFeature
    {
        public static readonly GrpcListenerFeature Instance = new();
    }
}
