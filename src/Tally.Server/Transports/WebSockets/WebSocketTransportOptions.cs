namespace Tally.Server.Transports.WebSockets;

/// <summary>Settings of the <c>/v1/ws</c> transport (section <c>Tally:WebSockets</c>).</summary>
internal sealed class WebSocketTransportOptions
{
    /// <summary>Largest client message taken; a larger one closes the socket with 1009. Default 16 KiB.</summary>
    public int MaxMessageBytes { get; set; } = 16 * 1024;

    /// <summary>Polls one socket may watch at once; one more closes it with 1008. Default 100.</summary>
    public int MaxSubscriptions { get; set; } = 100;

    /// <summary>
    /// The server pings a socket it has heard nothing from for this long. Default 20 s. Browsers and
    /// <c>ClientWebSocket</c> answer pings by themselves. Zero turns server pings off.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A socket that does not answer a ping within this long is dropped (a dead peer frees its
    /// subscriptions). Default 20 s; keep it above <c>Tally:Live:StuckTimeout</c>, because the socket is
    /// not read while one of its answers waits to be sent.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a close handshake may take each way (our close frame out, the client's back) before the socket is dropped. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With permessage-deflate negotiated, messages shorter than this are sent uncompressed: deltas are
    /// a few dozen bytes and compressing each one per socket costs more CPU than it saves. Default 256 bytes.
    /// </summary>
    public int CompressionThreshold { get; set; } = 256;
}
