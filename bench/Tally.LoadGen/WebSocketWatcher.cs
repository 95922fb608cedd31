using System.Net.WebSockets;
using System.Text;

namespace Tally.LoadGen;

/// <summary>
/// <c>GET /v1/ws</c> with subprotocol <c>tally.json.v1</c>: subscribes to one poll and hands each text message to the watcher.
/// With <paramref name="ceiling"/>: the ceiling's bare broadcaster, <c>GET /ws?pollId=</c>, no subprotocol, nothing to send.
/// </summary>
internal sealed class WebSocketWatcher(HttpMessageInvoker invoker, Uri baseUrl, string pollId, bool ceiling = false) : Watcher(pollId)
{
    public const string Subprotocol = "tally.json.v1";

    private readonly ClientWebSocket _socket = new();

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        _socket.Options.KeepAliveInterval = TimeSpan.Zero; // idle means idle: the server's pings are answered without it
        if (ceiling)
        {
            await _socket.ConnectAsync(new UriBuilder(baseUrl) { Scheme = "ws", Path = "/ws", Query = "pollId=" + PollId }.Uri, invoker, cancellationToken);
            return;
        }

        _socket.Options.AddSubProtocol(Subprotocol);
        var uri = new UriBuilder(baseUrl) { Scheme = "ws", Path = "/v1/ws" }.Uri;
        await _socket.ConnectAsync(uri, invoker, cancellationToken);
        if (_socket.SubProtocol != Subprotocol)
        {
            throw new InvalidOperationException($"/v1/ws accepted subprotocol '{_socket.SubProtocol}', not {Subprotocol}.");
        }

        var subscribe = Encoding.UTF8.GetBytes($$"""{"op":"subscribe","pollId":"{{PollId}}"}""");
        await _socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    protected override async Task ReadAsync(CancellationToken cancellationToken)
    {
        var messages = new WebSocketMessages(_socket, "poll " + PollId);
        while (true)
        {
            var (message, receivedAt) = await messages.ReadAsync(cancellationToken);
            OnMessage(message.Span, receivedAt);
        }
    }

    protected override ValueTask CloseAsync() => WebSocketMessages.CloseAsync(_socket);
}
