using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Tally.Server.Tests.Security;

/// <summary>
/// Where test issuers publish their public keys: a bare Kestrel app on a free loopback port answering
/// <c>GET /{name}/jwks</c> with a JWKS document. Keys can be swapped while it runs (rotation), and it counts fetches.
/// </summary>
public sealed class JwksHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, JsonObject[]> _sets = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _fetches;

    private JwksHost(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<JwksHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var host = new JwksHost(builder.Build());
        host._app.MapGet("/{name}/jwks", (string name) =>
        {
            Interlocked.Increment(ref host._fetches);
            lock (host._gate)
            {
                return host._sets.TryGetValue(name, out var keys)
                    ? Results.Text(new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.DeepClone())]) }.ToJsonString(), "application/json")
                    : Results.NotFound();
            }
        });
        await host._app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        host.BaseAddress = new Uri(host._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        return host;
    }

    /// <summary>Publishes <paramref name="issuers"/>' public keys under <paramref name="name"/> and returns the JWKS URL.</summary>
    public string Publish(string name, params TestIssuer[] issuers)
    {
        lock (_gate)
        {
            _sets[name] = [.. issuers.Select(i => i.Jwk!)];
        }

        return new Uri(BaseAddress, $"/{name}/jwks").ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
