using System.Buffers;
using System.Net.WebSockets;
using Tally.Live;
using Tally.Server.Access;
using Tally.Metrics;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// One accepted <c>/v1/ws</c> socket, from accept to close: reads the client's messages and hands them to
/// <see cref="WebSocketOps"/> one at a time, in order (a vote's ack is sent before the next op is read),
/// while <see cref="WebSocketConnection"/> writes the hub's messages. Either side may end the socket;
/// <see cref="BeginClose"/> makes sure it is ended once, with one close code.
/// </summary>
internal sealed class WebSocketSession
{
    private static readonly KeyValuePair<string, object?> Transport = TallyMetrics.Transport("websocket");

    private readonly WebSocket _socket;
    private readonly WebSocketConnection _connection;
    private readonly WebSocketOps _ops;
    private readonly WebSocketProtocol _protocol;
    private readonly LiveHub _hub;
    private readonly WebSocketTransportOptions _options;
    private readonly ILogger _logger;
    private int _closing;
    private int _finished;
    private Task _closed = Task.CompletedTask;

    public WebSocketSession(
        WebSocket socket,
        WebSocketProtocol protocol,
        LiveHub hub,
        WebSocketTransportOptions options,
        ILogger logger,
        Visitor visitor,
        string? credential,
        SocketAdmission admission,
        TimeProvider time)
    {
        _socket = socket;
        _protocol = protocol;
        _hub = hub;
        _options = options;
        _logger = logger;
        _connection = new WebSocketConnection(socket, protocol, hub.Options, options.CompressionThreshold, OnWriterEnded);
        _ops = new WebSocketOps(_connection, hub, options, BeginClose, visitor, credential, admission, new MessageRate(time, options.MessagesPerSecond, options.MessageBurst));
    }

    /// <summary>
    /// Runs until the socket is closed (by either side, or by the server shutting down) or drops. An idle
    /// socket costs this one pending receive (no buffer) and the connection's state; no writer task, no timer.
    /// </summary>
    public async Task RunAsync()
    {
        _connection.Start();
        _hub.Metrics.ConnectionOpened(Transport);
        var shutdown = _hub.Closing.UnsafeRegister(static state => ((WebSocketSession)state!).BeginClose(WebSocketCloseCodes.ShuttingDown, "server shutting down"), this);
        try
        {
            while (true)
            {
                // Wait for a message without holding a buffer: an idle socket costs no receive memory.
                var head = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                if (head.MessageType == WebSocketMessageType.Close)
                {
                    BeginClose(WebSocketCloseCodes.Normal, string.Empty); // answers the client's close, unless we sent ours first
                    return;
                }

                if (head.MessageType != _protocol.MessageType)
                {
                    BeginClose(
                        WebSocketCloseCodes.WrongFrameType,
                        _protocol.MessageType == WebSocketMessageType.Text ? "tally.json.v1 takes text frames" : "tally.msgpack.v1 takes binary frames");
                }

                // An empty message has been read whole by the zero-byte receive; any other is read (or skipped) now.
                if (Volatile.Read(ref _closing) != 0)
                {
                    if (!head.EndOfMessage)
                    {
                        await SkipMessageAsync().ConfigureAwait(false);
                    }

                    continue;
                }

                if (head.EndOfMessage)
                {
                    await HandleOrCloseAsync(ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
                    continue;
                }

                if (!await ReceiveMessageAsync().ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // the connection dropped, a close handshake ran out of time (the socket was aborted), or the peer
            // broke the protocol (ManagedWebSocket has then sent the close frame itself)
        }
        finally
        {
            _ops.Detach(); // ends the connection's writing too
            await shutdown.DisposeAsync().ConfigureAwait(false); // after this nothing calls BeginClose
            await Volatile.Read(ref _closed).ConfigureAwait(false);
            Volatile.Write(ref _finished, 1);
            if (_socket.State != WebSocketState.Closed)
            {
                _socket.Abort(); // no close handshake (the peer vanished, or did not answer ours in time)
            }

            _hub.Metrics.ConnectionClosed(Transport);
        }
    }

    /// <summary>Stops the hub's messages and sends the close frame; the receive loop then waits for the client's.</summary>
    private void BeginClose(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        if (status is not (WebSocketCloseCodes.Normal or WebSocketCloseCodes.ShuttingDown))
        {
            LiveLog.WebSocketClosing(_logger, (int)status, reason);
        }

        _ops.Detach(); // a closing socket watches nothing, even while the client takes its time to answer the close
        Volatile.Write(ref _closed, CloseAsync(status, reason));
        _ = AbortUnlessClosedAsync(); // our close frame out, theirs back: bounded
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        using var limit = new CancellationTokenSource(_options.CloseTimeout);
        try
        {
            if (await _connection.CloseOutputAsync(status, reason, limit.Token).ConfigureAwait(false))
            {
                return;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the peer is gone, or would not take the close frame in time
        }

        Abort();
    }

    private async Task AbortUnlessClosedAsync()
    {
        await Task.Delay(_options.CloseTimeout * 2).ConfigureAwait(false);
        if (_socket.State != WebSocketState.Closed)
        {
            Abort(); // the client never answered our close frame: end the receive loop
        }
    }

    private void Abort()
    {
        if (Volatile.Read(ref _finished) != 0)
        {
            return; // the session is over and the socket disposed
        }

        try
        {
            _socket.Abort();
        }
        catch (ObjectDisposedException)
        {
            // disposed just now by the session's end
        }
    }

    /// <summary>The connection stopped writing (on the thread pool): a stuck or failed write ends the socket.</summary>
    private void OnWriterEnded(Exception? error)
    {
        switch (error)
        {
            case null:
                return; // completed: the socket is closing
            case SlowConsumerException slow:
                CloseSlow(slow);
                return;
            case WebSocketException or ObjectDisposedException or IOException:
                Abort(); // the peer is gone: end the receive loop too
                return;
            default:
                LiveLog.WebSocketFault(_logger, error);
                BeginClose(WebSocketCloseCodes.ServerError, "unexpected server error");
                return;
        }
    }

    private void CloseSlow(SlowConsumerException exception)
    {
        LiveLog.SlowWatcherClosed(_logger, "websocket", string.Join(',', _connection.Polls.Take(5)), exception.Message);
        _hub.Metrics.SlowConsumerClosed(Transport);
        BeginClose(WebSocketCloseCodes.SlowConsumer, "slow consumer: messages were not read in time");
    }

    /// <summary>Reads one message and handles it; false when the client's close frame came instead.</summary>
    private async Task<bool> ReceiveMessageAsync()
    {
        var limit = _options.MaxMessageBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(limit);
        try
        {
            var length = 0;
            while (true)
            {
                if (length == limit)
                {
                    BeginClose(WebSocketCloseCodes.TooBig, $"a message is at most {limit} bytes");
                    return true; // the rest of it is skipped by the receive loop
                }

                var read = await _socket.ReceiveAsync(buffer.AsMemory(length, limit - length), CancellationToken.None).ConfigureAwait(false);
                if (read.MessageType == WebSocketMessageType.Close)
                {
                    BeginClose(WebSocketCloseCodes.Normal, string.Empty);
                    return false;
                }

                length += read.Count;
                if (read.EndOfMessage)
                {
                    break;
                }
            }

            await HandleOrCloseAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Handles one op; a client too slow to take the answer, or a fault of ours, closes the socket.</summary>
    private async Task HandleOrCloseAsync(ReadOnlyMemory<byte> message)
    {
        try
        {
            await _ops.HandleAsync(message).ConfigureAwait(false);
        }
        catch (SlowConsumerException ex)
        {
            CloseSlow(ex);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or WebSocketException))
        {
            LiveLog.WebSocketFault(_logger, ex);
            BeginClose(WebSocketCloseCodes.ServerError, "unexpected server error");
        }
    }

    private async Task SkipMessageAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                if (read.EndOfMessage || read.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
