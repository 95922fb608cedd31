namespace Tally.Server.Limits;

/// <summary>
/// Settings under <c>Tally:Connections</c>: how many connections one client address (an IPv6 client's /64) may hold
/// open on this node. Sized for a large room behind one NAT (thousands of browsers with a page open each); 0 turns a cap off.
/// </summary>
public sealed class ConnectionLimitOptions
{
    /// <summary>
    /// Live streams one address may have open at once: WebSockets, SSE streams and gRPC <c>Watch</c> calls together
    /// (by the client's address as forwarded by a trusted proxy). One more is answered 429 <c>too-many-connections</c>
    /// (gRPC: <c>RESOURCE_EXHAUSTED</c>) before it opens. Default 10,000.
    /// </summary>
    public int MaxStreamsPerIp { get; set; } = 10_000;

    /// <summary>
    /// TCP connections one address may have open at once, counted as Kestrel accepts them (before TLS), so one more is
    /// closed at once without an answer. Connections from trusted proxies (<c>Tally:Proxies:Trusted</c>) are not counted:
    /// behind a proxy, <see cref="MaxStreamsPerIp"/> and the rate limits see the real clients. Default 20,000.
    /// </summary>
    public int MaxConnectionsPerIp { get; set; } = 20_000;
}
