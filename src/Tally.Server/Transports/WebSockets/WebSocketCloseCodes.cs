using System.Net.WebSockets;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// How the server closes a <c>/v1/ws</c> socket. The standard codes come from RFC 6455; 4000 is Tally's.
/// docs/live/websocket.md lists them for clients.
/// </summary>
internal static class WebSocketCloseCodes
{
    /// <summary>1000: the client closed, and the server answers in kind.</summary>
    public const WebSocketCloseStatus Normal = WebSocketCloseStatus.NormalClosure;

    /// <summary>1001: the server is shutting down; reconnect (to another node) and resume with <c>since</c>.</summary>
    public const WebSocketCloseStatus ShuttingDown = WebSocketCloseStatus.EndpointUnavailable;

    /// <summary>1003: a binary frame on <c>tally.json.v1</c>, or a text frame on <c>tally.msgpack.v1</c>.</summary>
    public const WebSocketCloseStatus WrongFrameType = WebSocketCloseStatus.InvalidMessageType;

    /// <summary>1008: a policy was broken (more subscriptions than one socket may hold).</summary>
    public const WebSocketCloseStatus Policy = WebSocketCloseStatus.PolicyViolation;

    /// <summary>1009: a client message larger than the limit.</summary>
    public const WebSocketCloseStatus TooBig = WebSocketCloseStatus.MessageTooBig;

    /// <summary>1011: the server failed; it has been logged.</summary>
    public const WebSocketCloseStatus ServerError = WebSocketCloseStatus.InternalServerError;

    /// <summary>4000: the client did not read its messages in time; reconnect and resume with <c>since</c>.</summary>
    public const WebSocketCloseStatus SlowConsumer = (WebSocketCloseStatus)4000;
}
