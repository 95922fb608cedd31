using System.Buffers.Binary;
using System.Text;
using Tally.Events;

namespace Tally.Cluster.EventLog;

/// <summary>
/// The payload of one JetStream message: a header (format, the writer's id, the position of the first event,
/// the number of events) and then the events back to back in <see cref="EventCodec"/> form. Positions are
/// kept in the payload so reading needs no header parsing, and the writer id tells a writer its own message
/// when it must find out whether a publish whose ack was lost was stored.
/// </summary>
internal static class BatchMessage
{
    public const int HeaderSize = 1 + 16 + 8 + 4;
    private const byte Format = 1;

    public static void WriteHeader(Span<byte> header, Guid writer, long first, int count)
    {
        header[0] = Format;
        writer.TryWriteBytes(header.Slice(1, 16));
        BinaryPrimitives.WriteInt64LittleEndian(header.Slice(17, 8), first);
        BinaryPrimitives.WriteInt32LittleEndian(header.Slice(25, 4), count);
    }

    public static (Guid Writer, long First, int Count) ReadHeader(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < HeaderSize || payload[0] != Format)
        {
            throw new InvalidDataException($"A message on the event subject is not a Tally batch (format {(payload.IsEmpty ? "none" : payload[0])}, {payload.Length} bytes).");
        }

        return (new Guid(payload.Slice(1, 16)), BinaryPrimitives.ReadInt64LittleEndian(payload.Slice(17, 8)), BinaryPrimitives.ReadInt32LittleEndian(payload.Slice(25, 4)));
    }

    /// <summary>The last position the message holds.</summary>
    public static long LastPosition(ReadOnlySpan<byte> payload)
    {
        var (_, first, count) = ReadHeader(payload);
        return first + count - 1;
    }

    /// <summary>The events of the message whose position is after <paramref name="afterPosition"/>.</summary>
    public static IEnumerable<StoredEvent> Read(ReadOnlyMemory<byte> payload, long afterPosition)
    {
        var (_, first, count) = ReadHeader(payload.Span);
        var bytes = payload[HeaderSize..].ToArray();
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        for (var i = 0; i < count; i++)
        {
            var e = EventCodec.Read(reader);
            if (first + i > afterPosition)
            {
                yield return new StoredEvent(first + i, e);
            }
        }
    }
}
