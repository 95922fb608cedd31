using System.Net.WebSockets;
using Tally.Server.Transports.WebSockets;

namespace Tally.Server.Tests.Live;

/// <summary>
/// Pre-framed server messages (<see cref="WebSocketFrames"/>): the header for each length encoding, and
/// a client WebSocket reading the frames back whole, with their type.
/// </summary>
public sealed class WebSocketFramesTests
{
    public static TheoryData<int, int> Lengths => new()
    {
        { 0, 2 },
        { 1, 2 },
        { 125, 2 },
        { 126, 4 },
        { 127, 4 },
        { 65_535, 4 },
        { 65_536, 10 },
        { 200_000, 10 },
    };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void A_frame_has_fin_the_opcode_no_mask_and_the_shortest_length_encoding(int length, int headerLength)
    {
        var payload = Payload(length);

        var text = WebSocketFrames.Frame(WebSocketMessageType.Text, payload);
        var binary = WebSocketFrames.Frame(WebSocketMessageType.Binary, payload);

        Assert.Equal(headerLength, WebSocketFrames.HeaderLength(length));
        Assert.Equal(headerLength + length, text.Length);
        Assert.Equal(0x81, text[0]); // FIN, no RSV bits (not compressed), opcode 1
        Assert.Equal(0x82, binary[0]); // opcode 2
        Assert.Equal(0, text[1] & 0x80); // server frames are not masked
        var expected7 = headerLength switch { 2 => length, 4 => 126, _ => 127 };
        Assert.Equal(expected7, text[1] & 0x7F);
        Assert.Equal(payload, text[headerLength..]);
        Assert.True(WebSocketFrames.TryReadHeader(text, out var readHeader, out var readLength));
        Assert.Equal((headerLength, (long)length), (readHeader, readLength));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public async Task A_client_websocket_reads_the_frames_as_whole_messages_of_their_type(int length, int headerLength)
    {
        _ = headerLength;
        var payload = Payload(length);
        using var wire = new MemoryStream();
        wire.Write(WebSocketFrames.Frame(WebSocketMessageType.Binary, payload));
        wire.Write(WebSocketFrames.Frame(WebSocketMessageType.Text, "{\"type\":\"delta\"}"u8));
        wire.Position = 0;
        using var client = WebSocket.CreateFromStream(wire, new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });

        var (type, received) = await ReceiveAsync(client);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(payload, received);

        (type, received) = await ReceiveAsync(client);
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.Equal("{\"type\":\"delta\"}"u8.ToArray(), received);
    }

    [Fact]
    public void A_header_is_read_only_once_all_its_bytes_are_there_masked_or_not()
    {
        byte[] masked = [0x89, 0x80 | 126, 0x01, 0x00, 1, 2, 3, 4]; // a ping, 256 bytes, with a mask key
        for (var i = 0; i < masked.Length; i++)
        {
            Assert.False(WebSocketFrames.TryReadHeader(masked.AsSpan(0, i), out _, out _));
        }

        Assert.True(WebSocketFrames.TryReadHeader(masked, out var header, out var length));
        Assert.Equal((8, 256L), (header, length));

        byte[] close = [0x88, 0x00];
        Assert.True(WebSocketFrames.TryReadHeader(close, out header, out length));
        Assert.Equal((2, 0L), (header, length));
    }

    [Fact]
    public void Only_text_and_binary_messages_are_pre_framed() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => WebSocketFrames.Frame(WebSocketMessageType.Close, []));

    internal static byte[] Payload(int length)
    {
        var payload = new byte[length];
        for (var i = 0; i < length; i++)
        {
            payload[i] = (byte)('a' + (i % 26));
        }

        return payload;
    }

    internal static async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveAsync(WebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var message = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            message.Write(buffer, 0, read.Count);
            if (read.EndOfMessage)
            {
                return (read.MessageType, message.ToArray());
            }
        }
    }
}
