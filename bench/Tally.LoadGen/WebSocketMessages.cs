using System.Diagnostics;
using System.Net.WebSockets;

namespace Tally.LoadGen;

/// <summary>
/// Reads whole messages from a <see cref="ClientWebSocket"/> into one growing buffer, each with the Stopwatch timestamp taken
/// when the read that completed it returned (before any parsing: the watchers' receive time).
/// </summary>
internal sealed class WebSocketMessages(ClientWebSocket socket, string what)
{
    private const int MaxMessageBytes = 1 << 20;

    private byte[] _buffer = new byte[1024];

    /// <summary>The next whole message (valid until the next call); throws when the server closes the socket.</summary>
    public async ValueTask<(ReadOnlyMemory<byte> Message, long ReceivedAt)> ReadAsync(CancellationToken cancellationToken)
    {
        var filled = 0;
        while (true)
        {
            if (filled == _buffer.Length)
            {
                if (_buffer.Length >= MaxMessageBytes)
                {
                    throw new InvalidDataException($"A message on {what} is longer than {MaxMessageBytes} bytes.");
                }

                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            var result = await socket.ReceiveAsync(_buffer.AsMemory(filled), cancellationToken);
            var receivedAt = Stopwatch.GetTimestamp();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new IOException($"The server closed the WebSocket: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            filled += result.Count;
            if (result.EndOfMessage)
            {
                return (_buffer.AsMemory(0, filled), receivedAt);
            }
        }
    }

    /// <summary>Says goodbye (a close frame, at most 2 s) if the socket is still open, and disposes it: the run is over either way.</summary>
    public static async ValueTask CloseAsync(ClientWebSocket socket)
    {
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench done", timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // the connection is going away either way
        }
        finally
        {
            socket.Dispose();
        }
    }
}
