using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// A watcher of the socket.io baseline speaking the Socket.IO v5 protocol over Engine.IO v4 framing on a
/// <see cref="ClientWebSocket"/> (websocket transport only, as the server allows): open packet, namespace connect
/// (<c>40</c>), <c>42["subscribe",pollId]</c>, then each <c>42["results",{…}]</c> event's object goes to the same JSON
/// reader as Tally's messages, with the receive time taken the same way (when the read that completed the frame
/// returned). Pings (<c>2</c>) are answered (<c>3</c>). Why not the <c>SocketIOClient</c> package: see bench/README.md.
/// </summary>
internal sealed class EngineIoWatcher(HttpMessageInvoker invoker, Uri baseUrl, string pollId) : Watcher(pollId)
{
    private static readonly byte[] s_pong = "3"u8.ToArray();
    private static readonly byte[] s_connect = "40"u8.ToArray();

    private readonly ClientWebSocket _socket = new();
    private WebSocketMessages? _messages;

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        _socket.Options.KeepAliveInterval = TimeSpan.Zero; // Engine.IO has its own ping, answered below
        var uri = new UriBuilder(baseUrl) { Scheme = "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket" }.Uri;
        await _socket.ConnectAsync(uri, invoker, cancellationToken);
        _messages = new WebSocketMessages(_socket, "poll " + PollId);

        // Engine.IO open ("0{sid,…}"), then connect to the main namespace and wait for its "40{sid}".
        var (open, _) = await ReceiveAsync(cancellationToken);
        if (open.Length == 0 || open.Span[0] != (byte)'0')
        {
            throw new InvalidDataException("Expected the Engine.IO open packet, got: " + Encoding.UTF8.GetString(open.Span));
        }

        await _socket.SendAsync(s_connect, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        while (true)
        {
            var (packet, _) = await ReceiveAsync(cancellationToken);
            if (packet.Span.StartsWith("40"u8))
            {
                break;
            }

            if (packet.Span.StartsWith("44"u8))
            {
                throw new InvalidOperationException("socket.io refused the connection: " + Encoding.UTF8.GetString(packet.Span));
            }

            await HandleAsync(packet, 0, cancellationToken);
        }

        var subscribe = Encoding.UTF8.GetBytes($$"""42["subscribe","{{PollId}}"]""");
        await _socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    protected override async Task ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var (packet, receivedAt) = await ReceiveAsync(cancellationToken);
            await HandleAsync(packet, receivedAt, cancellationToken);
        }
    }

    protected override ValueTask CloseAsync() => WebSocketMessages.CloseAsync(_socket);

    /// <summary>One Engine.IO packet: a ping is answered, an event <c>42["results",{…}]</c> goes to the watcher, a disconnect ends the stream.</summary>
    private async ValueTask HandleAsync(ReadOnlyMemory<byte> packet, long receivedAt, CancellationToken cancellationToken)
    {
        var span = packet.Span;
        if (span.Length == 1 && span[0] == (byte)'2')
        {
            await _socket.SendAsync(s_pong, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        else if (span.StartsWith("42"u8))
        {
            OnEvent(span[2..], receivedAt);
        }
        else if (span.StartsWith("41"u8) || (span.Length > 0 && span[0] == (byte)'1'))
        {
            throw new IOException("socket.io closed the connection: " + Encoding.UTF8.GetString(span));
        }
    }

    /// <summary>The object of an event <c>["results",{…}]</c>; any other event whole (the watcher records it as an anomaly).</summary>
    internal static ReadOnlySpan<byte> EventObject(ReadOnlySpan<byte> array)
    {
        var reader = new Utf8JsonReader(array);
        if (reader.Read() && reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.String
            && reader.ValueTextEquals("results"u8) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            return array[start..(int)reader.BytesConsumed];
        }

        return array;
    }

    /// <summary><c>["results",{…}]</c>: the object goes to the watcher as it is; other events are anomalies.</summary>
    private void OnEvent(ReadOnlySpan<byte> array, long receivedAt) => OnMessage(EventObject(array), receivedAt);

    /// <summary>One whole text frame (an Engine.IO packet over the websocket transport), and when the read that completed it returned.</summary>
    private ValueTask<(ReadOnlyMemory<byte> Message, long ReceivedAt)> ReceiveAsync(CancellationToken cancellationToken) =>
        (_messages ?? throw new InvalidOperationException("Not open.")).ReadAsync(cancellationToken);
}
