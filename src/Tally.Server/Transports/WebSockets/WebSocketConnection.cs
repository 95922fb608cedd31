using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using Tally.Live;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// The sending side of one <c>/v1/ws</c> socket. The hub's messages (written by the connection once <see cref="LiveConnection.Start"/> has run)
/// and the session's answers (acks, errors, pongs) share the socket, which takes one send at a time: every
/// send, and the close frame, takes <see cref="_sendLock"/>. Hub messages keep their order because one loop
/// writes them; an answer goes out between two of them.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim holds nothing to dispose unless its AvailableWaitHandle is used; a stuck send may release it after the socket ends.")]
internal sealed class WebSocketConnection(WebSocket socket, WebSocketProtocol protocol, LiveOptions options, int compressionThreshold, Action<Exception?> ended)
    : LiveConnection(options)
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private bool _closeSent; // under _sendLock

    public WebSocketProtocol Protocol => protocol;

    /// <summary>Called with each hub message as it is written (on the writing thread): the socket's own follow-ups, e.g. a participant's standing.</summary>
    public Action<LiveMessage>? Writing { get; set; }

    /// <summary>
    /// Sends one whole message. Tries to complete synchronously (Kestrel's output pipe usually takes it at
    /// once). When <paramref name="cancellationToken"/> fires first, the send is left to finish on its own
    /// — cancelling it would abort the socket and lose the close frame the session sends next — and keeps
    /// the lock until it does, so nothing interleaves with its bytes.
    /// </summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        _sendLock.Wait(0, CancellationToken.None) ? SendLocked(message, cancellationToken) : SendAfterLockAsync(message, cancellationToken);

    /// <summary>
    /// Sends the close frame after whatever send is in progress; every send after it is dropped. False when
    /// the send in progress did not end within <paramref name="cancellationToken"/>.
    /// </summary>
    public async Task<bool> CloseOutputAsync(WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        try
        {
            _closeSent = true;
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(status, reason, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    protected override void OnEnded(Exception? error) => ended(error);

    protected override ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        Writing?.Invoke(message);
        return SendAsync(protocol.Encode(message), cancellationToken);
    }

    private WebSocketMessageFlags Flags(ReadOnlyMemory<byte> message) => message.Length < compressionThreshold
        ? WebSocketMessageFlags.EndOfMessage | WebSocketMessageFlags.DisableCompression
        : WebSocketMessageFlags.EndOfMessage;

    private async ValueTask SendAfterLockAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        await SendLocked(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called holding the lock; releases it when the send has ended.</summary>
    private ValueTask SendLocked(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        ValueTask send;
        try
        {
            if (_closeSent)
            {
                _sendLock.Release();
                return ValueTask.CompletedTask; // the socket is closing: nothing may follow the close frame
            }

            send = socket.SendAsync(message, protocol.MessageType, Flags(message), CancellationToken.None);
        }
        catch
        {
            _sendLock.Release();
            throw;
        }

        if (send.IsCompletedSuccessfully)
        {
            send.GetAwaiter().GetResult();
            _sendLock.Release();
            return ValueTask.CompletedTask;
        }

        return AwaitSendAsync(send, cancellationToken);
    }

    private async ValueTask AwaitSendAsync(ValueTask send, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            try
            {
                await send.ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }

            return;
        }

        var sending = send.AsTask();
        try
        {
            await sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!sending.IsCompleted)
        {
            // Stuck: the send keeps the lock until the peer takes its bytes or the socket is aborted.
            _ = sending.ContinueWith(
                static (task, state) =>
                {
                    _ = task.Exception; // observed: the socket is being closed anyway
                    ((SemaphoreSlim)state!).Release();
                },
                _sendLock,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            throw;
        }
        catch
        {
            _sendLock.Release();
            throw;
        }

        _sendLock.Release();
    }
}
