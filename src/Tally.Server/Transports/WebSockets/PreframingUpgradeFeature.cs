using Microsoft.AspNetCore.Http.Features;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// Stands in for the server's <see cref="IHttpUpgradeFeature"/> on a <c>/v1/ws</c> request, so that the
/// WebSocket the middleware creates runs over a <see cref="PreframedStream"/>, which the endpoint then
/// finds here (<see cref="Stream"/>) to write pre-framed hub messages to.
/// </summary>
internal sealed class PreframingUpgradeFeature(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    /// <summary>The upgraded stream, once <see cref="UpgradeAsync"/> ran.</summary>
    public PreframedStream? Stream { get; private set; }

    public async Task<Stream> UpgradeAsync()
    {
        var stream = new PreframedStream(await inner.UpgradeAsync().ConfigureAwait(false));
        Stream = stream;
        return stream;
    }
}
