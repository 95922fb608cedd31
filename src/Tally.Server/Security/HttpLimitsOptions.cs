namespace Tally.Server.Security;

/// <summary>
/// Kestrel's limits against slow or greedy clients (section <c>Tally:Http</c>), set in code rather than left to
/// Kestrel's defaults so that they are written down. A rate of 0 turns that rate check off.
/// </summary>
public sealed class HttpLimitsOptions
{
    /// <summary>Longest time to receive a request's headers (slowloris). Default 10 s (Kestrel's: 30 s).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// An idle connection between requests (HTTP/1.1), or without streams (HTTP/2), is closed after this long.
    /// Default 75 s (Kestrel's: 130 s): longer than nginx's 60 s upstream keep-alive, so a proxy in front closes
    /// its idle connections first and never sends a request on one Tally is closing.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(75);

    /// <summary>
    /// A request body arriving slower than this (bytes per second, averaged since the first byte) is refused with
    /// 408 <c>request-timeout</c> once <see cref="MinRequestBodyGrace"/> has passed. Default 4096 (Kestrel's: 240):
    /// a 4 MiB batch may take up to 17 minutes, a 64 KiB body 16 s. Upgraded connections (WebSockets) are exempt.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 4096;

    /// <summary>Time before <see cref="MinRequestBodyBytesPerSecond"/> applies; more than 1 s. Default 5 s: a vote's body is in by then.</summary>
    public TimeSpan MinRequestBodyGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A client that reads a response slower than this (bytes per second) is disconnected. Kestrel applies it to
    /// each write while the write is pending, not to the response's whole life, so an SSE or gRPC watcher that
    /// waits minutes between messages is not affected; upgraded connections (WebSockets) are exempt. Default 240
    /// (Kestrel's).
    /// </summary>
    public double MinResponseBytesPerSecond { get; set; } = 240;

    /// <summary>How long one write may stay pending before <see cref="MinResponseBytesPerSecond"/> applies; more than 1 s. Default 5 s (Kestrel's).</summary>
    public TimeSpan MinResponseGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest request line (method, path, query). Default 8 KiB (Kestrel's).</summary>
    public int MaxRequestLineBytes { get; set; } = 8 * 1024;

    /// <summary>Largest total size of a request's headers, over HTTP/1.1 and HTTP/2 (its header list size). Default 16 KiB (Kestrel's: 32 KiB).</summary>
    public int MaxRequestHeadersBytes { get; set; } = 16 * 1024;

    /// <summary>Most headers in one request. Default 64 (Kestrel's: 100); browsers send about 20.</summary>
    public int MaxRequestHeaderCount { get; set; } = 64;

    /// <summary>HTTP/2: most concurrent streams (requests, gRPC calls) on one connection. Default 100 (Kestrel's).</summary>
    public int Http2MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>HTTP/2: size of the HPACK header compression table. Default 4096 bytes (Kestrel's and the RFC's).</summary>
    public int Http2HeaderTableBytes { get; set; } = 4096;

    /// <summary>HTTP/2: largest single header field, compressed or not. Default 8 KiB (Kestrel's: 32 KiB).</summary>
    public int Http2MaxHeaderFieldBytes { get; set; } = 8 * 1024;
}
