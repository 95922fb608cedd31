using System.IO.Compression;
using Microsoft.AspNetCore.ResponseCompression;

namespace Tally.Server.Http;

/// <summary>
/// Brotli and gzip for ordinary HTTP responses when the client asks (<c>Accept-Encoding</c>): JSON,
/// problem details, the results page. Never for live streams: a compressor buffers, and a stream's
/// message must reach the watcher the moment it is written.
/// </summary>
internal static class ResponseCompressionSetup
{
    /// <summary>Compressed when asked: API JSON, problems, and the page's HTML, CSS and JavaScript.</summary>
    public static readonly string[] MimeTypes =
    [
        "application/json",
        "application/problem+json",
        "text/html",
        "text/css",
        "application/javascript",
        "text/javascript",
        "text/plain",
    ];

    public static IServiceCollection AddTallyResponseCompression(this IServiceCollection services)
    {
        services.AddResponseCompression(o =>
        {
            // No secret is ever reflected into a response body (the admin key is only read), so
            // BREACH-style guessing has nothing to find: HTTPS clients get the same smaller responses.
            o.EnableForHttps = true;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = MimeTypes;
            o.ExcludedMimeTypes = ["text/event-stream"];
        });

        // Fastest: the bodies are small, and a busy server's CPU is for votes.
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        return services;
    }

    /// <summary>
    /// Adds the compression middleware for every request but live streams. A stream's response body is
    /// left unwrapped (the middleware's wrapper would copy each message once more on its way to the
    /// socket), and the excluded <c>text/event-stream</c> type guards any stream not recognised here.
    /// </summary>
    public static IApplicationBuilder UseTallyResponseCompression(this IApplicationBuilder app) =>
        app.UseWhen(context => !IsStream(context), branch => branch.UseResponseCompression());

    /// <summary>SSE (<c>/events</c>, or <c>Accept: text/event-stream</c>), WebSocket upgrades and gRPC calls.</summary>
    private static bool IsStream(HttpContext context)
    {
        // Headers only: this runs before any transport's middleware has set its features.
        var request = context.Request;
        return request.Path.Value?.EndsWith("/events", StringComparison.Ordinal) == true
            || request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase)
            || request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase)
            || HttpMethods.IsConnect(request.Method) // WebSockets over HTTP/2
            || request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
    }
}
