using System.Net.WebSockets;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// The upgraded connection's stream under a <c>/v1/ws</c> socket, with a second writer. The socket
/// (<c>ManagedWebSocket</c>) writes its own frames through it — answers, pings, pongs, the close frame — and
/// <see cref="WriteFrameAsync"/> writes a whole pre-framed hub message (<see cref="WebSocketFrames.Frame"/>,
/// the same bytes for every socket of a format) straight to the connection, skipping the socket's framing,
/// copy and flush. One lock keeps the two apart at frame boundaries: the socket's writes hold it from the
/// first byte of a frame to the last (the stream reads each frame's header to know where it ends, so a
/// frame written in pieces is never split), a pre-framed message holds it for its one write.
/// Reads pass through.
/// </summary>
internal sealed class PreframedStream(Stream inner) : Stream
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    // Touched only by the socket's writes, which come one at a time.
    private readonly byte[] _header = new byte[WebSocketFrames.MaxHeaderLength];
    private int _headerBytes;
    private long _payloadLeft;
    private bool _socketHoldsLock;

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>
    /// Writes one whole frame between the socket's frames. The write is not cancellable (a frame cut short
    /// would break the stream); a failure is a <see cref="WebSocketException"/>, as the socket's own sends.
    /// </summary>
    public ValueTask WriteFrameAsync(ReadOnlyMemory<byte> frame) =>
        _writeLock.Wait(0) ? WriteFrameLocked(frame) : WriteFrameAfterLockAsync(frame);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return ValueTask.CompletedTask;
        }

        if (_socketHoldsLock)
        {
            return WriteSocketBytes(buffer, cancellationToken); // the rest of a frame already begun
        }

        if (!_writeLock.Wait(0, CancellationToken.None))
        {
            return WriteSocketBytesAfterLockAsync(buffer, cancellationToken);
        }

        _socketHoldsLock = true;
        return WriteSocketBytes(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(ReadOnlySpan<byte> buffer) => WriteAsync(buffer.ToArray()).AsTask().GetAwaiter().GetResult();

    /// <summary>The socket flushes after its frames; a pre-framed write flushes itself (Kestrel's writes do).</summary>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_socketHoldsLock)
        {
            return inner.FlushAsync(cancellationToken);
        }

        return FlushUnderLockAsync(cancellationToken);
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private static WebSocketException Failed(Exception exception) =>
        exception as WebSocketException ?? new WebSocketException(WebSocketError.ConnectionClosedPrematurely, exception);

    private async ValueTask WriteFrameAfterLockAsync(ReadOnlyMemory<byte> frame)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        await WriteFrameLocked(frame).ConfigureAwait(false);
    }

    /// <summary>Called holding the lock; releases it when the write has ended.</summary>
    private ValueTask WriteFrameLocked(ReadOnlyMemory<byte> frame)
    {
        ValueTask write;
        try
        {
            write = inner.WriteAsync(frame, CancellationToken.None);
            if (write.IsCompletedSuccessfully)
            {
                write.GetAwaiter().GetResult();
                _writeLock.Release();
                return ValueTask.CompletedTask;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _writeLock.Release();
            throw Failed(ex);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }

        return AwaitFrameAsync(write);
    }

    private async ValueTask AwaitFrameAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw Failed(ex);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask WriteSocketBytesAfterLockAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        _socketHoldsLock = true;
        await WriteSocketBytes(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called with the lock held for the socket; releases it when a frame has ended with these bytes, or the write failed.</summary>
    private ValueTask WriteSocketBytes(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        bool frameEnds;
        ValueTask write;
        try
        {
            frameEnds = Track(buffer.Span);
            write = inner.WriteAsync(buffer, cancellationToken);
            if (write.IsCompletedSuccessfully)
            {
                write.GetAwaiter().GetResult();
                if (frameEnds)
                {
                    ReleaseForSocket();
                }

                return ValueTask.CompletedTask;
            }
        }
        catch
        {
            ResetForSocket();
            throw;
        }

        return AwaitSocketBytesAsync(write, frameEnds);
    }

    private async ValueTask AwaitSocketBytesAsync(ValueTask write, bool frameEnds)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch
        {
            ResetForSocket();
            throw;
        }

        if (frameEnds)
        {
            ReleaseForSocket();
        }
    }

    private async Task FlushUnderLockAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Follows the socket's frames through <paramref name="bytes"/>; true when they end on a frame boundary.</summary>
    private bool Track(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_payloadLeft > 0)
            {
                var take = (int)Math.Min(_payloadLeft, bytes.Length);
                _payloadLeft -= take;
                bytes = bytes[take..];
                continue;
            }

            _header[_headerBytes++] = bytes[0];
            bytes = bytes[1..];
            if (WebSocketFrames.TryReadHeader(_header.AsSpan(0, _headerBytes), out _, out var payload))
            {
                _headerBytes = 0;
                _payloadLeft = payload;
            }
        }

        return _headerBytes == 0 && _payloadLeft == 0;
    }

    private void ReleaseForSocket()
    {
        _socketHoldsLock = false;
        _writeLock.Release();
    }

    /// <summary>A write of the socket failed: the stream is broken; let go of the lock so nothing waits on it forever.</summary>
    private void ResetForSocket()
    {
        _headerBytes = 0;
        _payloadLeft = 0;
        if (_socketHoldsLock)
        {
            ReleaseForSocket();
        }
    }
}
