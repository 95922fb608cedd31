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

    /// <summary>
    /// TCP connections this node holds open at once, all addresses and listeners together, upgraded WebSockets included
    /// (which Kestrel's own <c>MaxConcurrentConnections</c> stops counting): one more is closed at once without an answer.
    /// Unset (the default): the process's open-file limit less a reserve for the server's own files (a tenth of the limit,
    /// at least 256 and at most 2,048), so that connections can never use up the file descriptors the database and the
    /// runtime need. 0 turns the cap off. A value above the open-file limit is
    /// refused at start: raise the limit first (<c>ulimit -n</c>, systemd's <c>LimitNOFILE</c>, Docker's <c>--ulimit nofile</c>).
    /// </summary>
    public int? MaxConnections { get; set; }
}
