using System.Net;

namespace Tally.LoadGen;

/// <summary>The HttpClient every scenario sends its API requests with: no proxy, cookies or decompression, bounded connect and request times.</summary>
internal static class LoadClient
{
    /// <summary>A client that owns its handler; <paramref name="maxConnections"/> caps connections to the server (default: no cap).</summary>
    public static HttpClient Create(int maxConnections = int.MaxValue) =>
        new(
            new SocketsHttpHandler
            {
                MaxConnectionsPerServer = maxConnections,
                UseProxy = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            },
            disposeHandler: true)
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
}
