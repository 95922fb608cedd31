using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Tokens;

namespace Tally.Server.Access;

/// <summary>
/// The signing keys each workspace issuer publishes at its JWKS URL, fetched and refreshed by IdentityModel's
/// <see cref="ConfigurationManager{T}"/>: one per (issuer, URL), so a key is only ever tried for the issuer that
/// published it — one issuer's key can never validate another's tokens, even under the same <c>kid</c>.
/// </summary>
internal sealed class JwksKeys : IDisposable
{
    private readonly ConcurrentDictionary<(string Issuer, string Url), ConfigurationManager<JsonWebKeySet>> _managers = new();
    private readonly AccessOptions _options;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10), MaxResponseContentBufferSize = 1024 * 1024 };

    public JwksKeys(IOptions<AccessOptions> options, AccessDirectory directory)
    {
        _options = options.Value;
        directory.Changed += () => _managers.Clear(); // a workspace's JWKS URL may have changed
    }

    /// <summary>The issuer's current keys. With <paramref name="refresh"/>, asks for a fresh fetch first (a <c>kid</c> was not found).</summary>
    public async Task<ICollection<SecurityKey>> GetAsync(string issuer, string url, bool refresh, CancellationToken cancellationToken)
    {
        var manager = _managers.GetOrAdd((issuer, url), key => new ConfigurationManager<JsonWebKeySet>(
            key.Url,
            new KeySetRetriever(),
            new HttpDocumentRetriever(_http) { RequireHttps = _options.JwksRequireHttps })
        {
            AutomaticRefreshInterval = _options.JwksRefreshInterval,
            RefreshInterval = _options.JwksMinimumRefreshInterval,
        });
        if (refresh)
        {
            manager.RequestRefresh();
        }

        var set = await manager.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        return set.GetSigningKeys();
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Reads a bare JWKS document (not an OpenID Connect discovery document).</summary>
    private sealed class KeySetRetriever : IConfigurationRetriever<JsonWebKeySet>
    {
        public async Task<JsonWebKeySet> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel) =>
            new(await retriever.GetDocumentAsync(address, cancel).ConfigureAwait(false));
    }
}
