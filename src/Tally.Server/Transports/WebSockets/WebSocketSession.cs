using System.Buffers;
using System.Net.WebSockets;
using Tally.Engine;
using Tally.Live;
using Tally.Polls;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// One accepted <c>/v1/ws</c> socket: reads the client's ops one at a time, in order (a vote's ack is sent
/// before the next op is read), while <see cref="WebSocketConnection"/> writes the hub's messages. Either
/// side may end the socket; <see cref="BeginClose"/> makes sure it is ended once, with one close code.
/// </summary>
internal sealed class WebSocketSession : IDisposable
{
    /// <summary>Longest requestId echoed back.</summary>
    public const int MaxRequestIdLength = 128;

    private readonly WebSocket _socket;
    private readonly WebSocketConnection _connection;
    private readonly WebSocketProtocol _protocol;
    private readonly LiveHub _hub;
    private readonly TallyEngine _engine;
    private readonly WebSocketTransportOptions _options;
    private readonly TimeSpan _stuckTimeout;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _writerStop;
    private readonly CancellationTokenSource _receiveStop;
    private readonly Lock _subscribing = new();
    private bool _detached; // under _subscribing
    private int _closing;
    private Task _closed = Task.CompletedTask;

    public WebSocketSession(
        WebSocket socket,
        WebSocketProtocol protocol,
        LiveHub hub,
        TallyEngine engine,
        WebSocketTransportOptions options,
        ILogger logger,
        CancellationToken aborted)
    {
        _socket = socket;
        _protocol = protocol;
        _hub = hub;
        _engine = engine;
        _options = options;
        _stuckTimeout = hub.Options.StuckTimeout;
        _logger = logger;
        _connection = new WebSocketConnection(socket, protocol, hub.Options, options.CompressionThreshold);
        _writerStop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _receiveStop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
    }

    /// <summary>Runs until the socket is closed (by either side, or by the server shutting down) or drops.</summary>
    public async Task RunAsync()
    {
        var writer = RunWriterAsync();
        var shutdown = _hub.Closing.Register(static state => ((WebSocketSession)state!).BeginClose(WebSocketCloseCodes.ShuttingDown, "server shutting down"), this);
        try
        {
            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        finally
        {
            Detach();
            await _writerStop.CancelAsync().ConfigureAwait(false);
            await writer.ConfigureAwait(false);
            await shutdown.DisposeAsync().ConfigureAwait(false); // after this nothing calls BeginClose
            await Volatile.Read(ref _closed).ConfigureAwait(false);
            if (_socket.State != WebSocketState.Closed)
            {
                _socket.Abort(); // no close handshake (the peer vanished, or did not answer ours in time)
            }
        }
    }

    public void Dispose()
    {
        _writerStop.Dispose();
        _receiveStop.Dispose();
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

        _receiveStop.CancelAfter(_options.CloseTimeout * 2); // our close frame out, theirs back
        _writerStop.Cancel();
        Detach(); // a closing socket watches nothing, even while the client takes its time to answer the close
        Volatile.Write(ref _closed, CloseAsync(status, reason));
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
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // the peer is gone, or would not take the close frame in time
        }

        _socket.Abort();
    }

    private void Detach()
    {
        lock (_subscribing)
        {
            _detached = true;
            _connection.Detach();
        }
    }

    private void CloseSlow(SlowConsumerException exception)
    {
        LiveLog.SlowWatcherClosed(_logger, "websocket", string.Join(',', _connection.Polls.Take(5)), exception.Message);
        BeginClose(WebSocketCloseCodes.SlowConsumer, "slow consumer: messages were not read in time");
    }

    private async Task RunWriterAsync()
    {
        try
        {
            await _connection.RunAsync(_writerStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_writerStop.IsCancellationRequested)
        {
            // closing, or the connection dropped
        }
        catch (SlowConsumerException ex)
        {
            CloseSlow(ex);
        }
        catch (WebSocketException)
        {
            _socket.Abort(); // the peer is gone: end the receive loop too
        }
        catch (Exception ex)
        {
            LiveLog.WebSocketFault(_logger, ex);
            BeginClose(WebSocketCloseCodes.ServerError, "unexpected server error");
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var cancellationToken = _receiveStop.Token;
        try
        {
            while (true)
            {
                // Wait for a message without holding a buffer: an idle socket costs no receive memory.
                var head = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
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
                        await SkipMessageAsync(cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }

                if (head.EndOfMessage)
                {
                    await HandleOrCloseAsync(ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
                    continue;
                }

                if (!await ReceiveMessageAsync(cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // the connection dropped, a close handshake ran out of time, or the peer broke the protocol
            // (ManagedWebSocket has then sent the close frame itself)
        }
    }

    /// <summary>Reads one message and handles it; false when the client's close frame came instead.</summary>
    private async Task<bool> ReceiveMessageAsync(CancellationToken cancellationToken)
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

                var read = await _socket.ReceiveAsync(buffer.AsMemory(length, limit - length), cancellationToken).ConfigureAwait(false);
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
            await HandleAsync(message).ConfigureAwait(false);
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

    private async Task SkipMessageAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
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

    private async Task HandleAsync(ReadOnlyMemory<byte> message)
    {
        var op = new ClientOp();
        if (!_protocol.TryRead(message, op, out var malformed))
        {
            await SendErrorAsync(OpError.InvalidMessage(op, malformed!)).ConfigureAwait(false);
            return;
        }

        if (op.RequestId is { Length: > MaxRequestIdLength })
        {
            op.RequestId = null;
            await SendErrorAsync(OpError.Validation(op, $"requestId is at most {MaxRequestIdLength} characters.")).ConfigureAwait(false);
            return;
        }

        switch (op.Op)
        {
            case "subscribe":
                await SubscribeAsync(op).ConfigureAwait(false);
                break;
            case "unsubscribe":
                if (op.PollId is null)
                {
                    await SendErrorAsync(OpError.Validation(op, "pollId is required.")).ConfigureAwait(false);
                    break;
                }

                _hub.Unsubscribe(_connection, op.PollId);
                break;
            case "vote":
                await VoteAsync(op).ConfigureAwait(false);
                break;
            case "ping":
                await SendAsync(static (protocol, buffer, op) => protocol.WritePong(buffer, op.RequestId), op).ConfigureAwait(false);
                break;
            default:
                await SendErrorAsync(OpError.UnknownOp(op)).ConfigureAwait(false);
                break;
        }
    }

    private async Task SubscribeAsync(ClientOp op)
    {
        if (op.PollId is not { } pollId)
        {
            await SendErrorAsync(OpError.Validation(op, "pollId is required.")).ConfigureAwait(false);
            return;
        }

        if (op.Since < 0)
        {
            await SendErrorAsync(OpError.Validation(op, "since is a seq: 0 or more.")).ConfigureAwait(false);
            return;
        }

        var polls = _connection.Polls;
        if (polls.Count >= _options.MaxSubscriptions && !polls.Contains(pollId))
        {
            BeginClose(WebSocketCloseCodes.Policy, $"at most {_options.MaxSubscriptions} subscriptions per socket");
            return;
        }

        bool found;
        lock (_subscribing)
        {
            // BeginClose may detach from another thread (the writer, the shutdown); a subscribe must not follow it.
            found = _detached || _hub.Subscribe(_connection, pollId, op.Since);
        }

        if (!found)
        {
            await SendErrorAsync(OpError.PollNotFound(op, pollId)).ConfigureAwait(false);
        }
    }

    private async Task VoteAsync(ClientOp op)
    {
        var missing = op switch
        {
            { RequestId: null } => "requestId is required: the ack or error of the vote carries it back.",
            { PollId: null } => "pollId is required.",
            { OptionIds: null } => "optionIds is required: an array of option ids.",
            _ => null,
        };
        if (missing is not null)
        {
            await SendErrorAsync(OpError.Validation(op, missing)).ConfigureAwait(false);
            return;
        }

        if (_engine.Catalog.FindPoll(op.PollId!) is null)
        {
            await SendErrorAsync(OpError.PollNotFound(op, op.PollId!)).ConfigureAwait(false);
            return;
        }

        var outcome = await _engine.CastVoteAsync(new CastVote(op.PollId!, op.OptionIds!, op.VoterId, op.IdempotencyKey)).ConfigureAwait(false);
        if (outcome.Rejection is { } rejection)
        {
            await SendErrorAsync(OpError.From(op, rejection)).ConfigureAwait(false);
            return;
        }

        await SendAsync(static (protocol, buffer, state) => protocol.WriteAck(buffer, state.RequestId, state.Outcome), (RequestId: op.RequestId!, Outcome: outcome)).ConfigureAwait(false);
    }

    private Task SendErrorAsync(OpError error) =>
        SendAsync(static (protocol, buffer, error) => protocol.WriteError(buffer, error), error);

    /// <summary>
    /// Sends an answer through the connection's send lock, bounded like the hub's writes: stuck past
    /// <see cref="LiveOptions.StuckTimeout"/>, the client is too slow. After the close frame, answers are dropped.
    /// </summary>
    private async Task SendAsync<TState>(Action<WebSocketProtocol, IBufferWriter<byte>, TState> write, TState state)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        write(_protocol, buffer, state);
        using var stuck = new CancellationTokenSource(_stuckTimeout);
        try
        {
            await _connection.SendAsync(buffer.WrittenMemory, stuck.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stuck.IsCancellationRequested)
        {
            throw new SlowConsumerException($"An answer was not sent within {_stuckTimeout.TotalSeconds:0.#} s.");
        }
    }
}
