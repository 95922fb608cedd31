using System.Buffers.Binary;
using System.Net.WebSockets;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// Whole WebSocket frames as the server sends them (RFC 6455 §5.2: FIN set, no extension bits, unmasked),
/// built once per message and written to every socket of a format as they are; and the length of a frame
/// from its first bytes, to find where the socket's own frames end.
/// </summary>
internal static class WebSocketFrames
{
    /// <summary>The longest header: 2 bytes, an 8-byte extended length and a 4-byte mask key.</summary>
    public const int MaxHeaderLength = 14;

    /// <summary>One unfragmented, uncompressed, unmasked frame carrying <paramref name="payload"/>.</summary>
    public static byte[] Frame(WebSocketMessageType type, ReadOnlySpan<byte> payload)
    {
        var opcode = type switch
        {
            WebSocketMessageType.Text => (byte)0x1,
            WebSocketMessageType.Binary => (byte)0x2,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Only text and binary messages are pre-framed."),
        };
        var header = HeaderLength(payload.Length);
        var frame = new byte[header + payload.Length];
        frame[0] = (byte)(0x80 | opcode); // FIN
        switch (header)
        {
            case 2:
                frame[1] = (byte)payload.Length;
                break;
            case 4:
                frame[1] = 126;
                BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
                break;
            default:
                frame[1] = 127;
                BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
                break;
        }

        payload.CopyTo(frame.AsSpan(header));
        return frame;
    }

    /// <summary>The header length of an unmasked frame whose payload is <paramref name="payloadLength"/> bytes.</summary>
    public static int HeaderLength(int payloadLength) => payloadLength switch
    {
        < 126 => 2,
        <= ushort.MaxValue => 4,
        _ => 10,
    };

    /// <summary>
    /// Reads a frame header from its first bytes: false while more bytes are needed; else the header's
    /// length and the payload's (any frame: masked or not, any opcode).
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out int headerLength, out long payloadLength)
    {
        headerLength = 0;
        payloadLength = 0;
        if (header.Length < 2)
        {
            return false;
        }

        var length7 = header[1] & 0x7F;
        var needed = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + ((header[1] & 0x80) != 0 ? 4 : 0);
        if (header.Length < needed)
        {
            return false;
        }

        headerLength = needed;
        payloadLength = length7 switch
        {
            126 => BinaryPrimitives.ReadUInt16BigEndian(header[2..]),
            127 => (long)BinaryPrimitives.ReadUInt64BigEndian(header[2..]),
            _ => length7,
        };
        return true;
    }
}
