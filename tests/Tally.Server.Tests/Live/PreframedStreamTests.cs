using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Tally.Server.Transports.WebSockets;

namespace Tally.Server.Tests.Live;

/// <summary>
/// <see cref="PreframedStream"/>: pre-framed messages go in only between the socket's own frames, even
/// when the socket writes a frame in pieces, and a client reads both kinds whole and in order while the
/// keep-alive pings and pongs run.
/// </summary>
public sealed class PreframedStreamTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_pre_framed_message_waits_until_the_frame_the_socket_is_writing_ends()
    {
        using var wire = new MemoryStream();
        await using var stream = new PreframedStream(wire);
        var own = WebSocketFrames.Frame(WebSocketMessageType.Binary, WebSocketFramesTests.Payload(300)); // 4-byte header
        var hub = WebSocketFrames.Frame(WebSocketMessageType.Text, "{\"type\":\"delta\"}"u8);

        await stream.WriteAsync(own.AsMemory(0, 1)); // the header in two pieces, then the payload in two
        var pending = stream.WriteFrameAsync(hub).AsTask();
        await stream.WriteAsync(own.AsMemory(1, 3));
        await stream.WriteAsync(own.AsMemory(4, 100));
        Assert.False(pending.IsCompleted);
        Assert.Equal(104, wire.Length);

        await stream.WriteAsync(own.AsMemory(104));
        await pending.WaitAsync(Timeout);
        Assert.Equal([.. own, .. hub], wire.ToArray());

        // Between frames the socket's next frame waits for nothing, and a pre-framed one goes straight in.
        await stream.WriteAsync(WebSocketFrames.Frame(WebSocketMessageType.Text, []));
        await stream.WriteFrameAsync(hub).AsTask().WaitAsync(Timeout);
        Assert.Equal(own.Length + hub.Length + 2 + hub.Length, wire.Length);
    }

    [Fact]
    public async Task A_failed_write_of_the_socket_lets_go_of_the_stream()
    {
        await using var stream = new PreframedStream(new ThrowingStream());
        var own = WebSocketFrames.Frame(WebSocketMessageType.Binary, new byte[10]);

        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(own.AsMemory(0, 5)).AsTask());
        var error = await Assert.ThrowsAsync<WebSocketException>(() => stream.WriteFrameAsync(own).AsTask().WaitAsync(Timeout));
        Assert.Equal(WebSocketError.ConnectionClosedPrematurely, error.WebSocketErrorCode);
        Assert.IsType<IOException>(error.InnerException);
    }

    [Fact]
    public async Task Over_loopback_a_client_reads_the_sockets_messages_and_the_pre_framed_ones_whole_and_in_order_among_pings()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var clientTcp = new TcpClient();
        await clientTcp.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port).WaitAsync(Timeout);
        using var serverTcp = await listener.AcceptTcpClientAsync().WaitAsync(Timeout);

        await using var stream = new PreframedStream(serverTcp.GetStream());
        using var server = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.FromMilliseconds(5) });
        using var client = WebSocket.CreateFromStream(clientTcp.GetStream(), new WebSocketCreationOptions
        {
            IsServer = false,
            KeepAliveInterval = TimeSpan.FromMilliseconds(5), // the client pings: the server's pongs go through the stream too
            KeepAliveTimeout = Timeout,
        });

        const int Each = 150;
        var serverReceives = Task.Run(async () => // answers pings while the sends run; ends with the client's close
        {
            var buffer = new byte[64];
            while ((await server.ReceiveAsync(buffer.AsMemory(), CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        });
        var socketSends = Task.Run(async () =>
        {
            for (var i = 0; i < Each; i++)
            {
                await server.SendAsync(Message("own", i), WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            }
        });
        var preframedSends = Task.Run(async () =>
        {
            for (var i = 0; i < Each; i++)
            {
                await stream.WriteFrameAsync(WebSocketFrames.Frame(WebSocketMessageType.Text, Message("hub", i)));
            }
        });

        var next = new Dictionary<WebSocketMessageType, int> { [WebSocketMessageType.Binary] = 0, [WebSocketMessageType.Text] = 0 };
        for (var n = 0; n < 2 * Each; n++)
        {
            var (type, payload) = await WebSocketFramesTests.ReceiveAsync(client);
            var expected = Message(type == WebSocketMessageType.Binary ? "own" : "hub", next[type]++);
            Assert.Equal(expected, payload);
        }

        await Task.WhenAll(socketSends, preframedSends).WaitAsync(Timeout);
        await client.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Timeout);
        await serverReceives.WaitAsync(Timeout);
    }

    /// <summary>Message <paramref name="i"/> of a writer: its name and number, then 0 to ~70,000 bytes, across all three length encodings.</summary>
    private static byte[] Message(string writer, int i)
    {
        var head = Encoding.ASCII.GetBytes($"{writer}-{i}:");
        var length = (i * 7919) % 70_000;
        return [.. head, .. WebSocketFramesTests.Payload(length)];
    }

    private sealed class ThrowingStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException(new IOException("the connection is gone"));

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("the connection is gone");
    }
}
