using System.Diagnostics;
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

    private const int MaxMessageBytes = 1 << 20;

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
        var buffer = new byte[1024];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxMessageBytes)
                {
                    throw new InvalidDataException($"A message on poll {PollId} is longer than {MaxMessageBytes} bytes.");
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var result = await _socket.ReceiveAsync(buffer.AsMemory(filled), cancellationToken);
            var receivedAt = Stopwatch.GetTimestamp();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new IOException($"The server closed the WebSocket: {_socket.CloseStatus} {_socket.CloseStatusDescription}");
            }

            filled += result.Count;
            if (result.EndOfMessage)
            {
                OnMessage(buffer.AsSpan(0, filled), receivedAt);
                filled = 0;
            }
        }
    }

    protected override async ValueTask CloseAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench done", timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // the connection is going away either way
        }
        finally
        {
            _socket.Dispose();
        }
    }
}
