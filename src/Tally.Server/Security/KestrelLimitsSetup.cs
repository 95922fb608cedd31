using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Tally.Server.Security;

/// <summary>Puts <see cref="HttpLimitsOptions"/> into Kestrel's limits.</summary>
internal sealed class KestrelLimitsSetup(IOptions<HttpLimitsOptions> options) : IConfigureOptions<KestrelServerOptions>
{
    public void Configure(KestrelServerOptions kestrel)
    {
        var settings = options.Value;
        var limits = kestrel.Limits;
        limits.RequestHeadersTimeout = settings.RequestHeadersTimeout;
        limits.KeepAliveTimeout = settings.KeepAliveTimeout;
        limits.MinRequestBodyDataRate = settings.MinRequestBodyBytesPerSecond > 0
            ? new MinDataRate(settings.MinRequestBodyBytesPerSecond, settings.MinRequestBodyGrace)
            : null;
        limits.MinResponseDataRate = settings.MinResponseBytesPerSecond > 0
            ? new MinDataRate(settings.MinResponseBytesPerSecond, settings.MinResponseGrace)
            : null;
        limits.MaxRequestLineSize = settings.MaxRequestLineBytes;
        limits.MaxRequestHeadersTotalSize = settings.MaxRequestHeadersBytes;
        limits.MaxRequestHeaderCount = settings.MaxRequestHeaderCount;
        limits.Http2.MaxStreamsPerConnection = settings.Http2MaxStreamsPerConnection;
        limits.Http2.HeaderTableSize = settings.Http2HeaderTableBytes;
        limits.Http2.MaxRequestHeaderFieldSize = settings.Http2MaxHeaderFieldBytes;
    }
}
