using System.Buffers;
using System.Globalization;
using System.Text;
using Tally.Live;

namespace Tally.Server.Transports.Sse;

/// <summary>One <c>text/event-stream</c> response watching one poll. Each message is framed once and shared.</summary>
internal sealed class SseConnection(HttpResponse response, LiveOptions options, TimeSpan heartbeat) : LiveConnection(options)
{
    private static readonly Func<LiveMessage, byte[]> Frame = Encode;

    protected override TimeSpan? HeartbeatInterval => heartbeat;

    protected override ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        response.BodyWriter.Write(message.GetEncoded(LiveFormats.Sse, Frame));
        return ValueTask.CompletedTask;
    }

    protected override async ValueTask FlushAsync(CancellationToken cancellationToken) =>
        await response.BodyWriter.FlushAsync(cancellationToken);

    protected override ValueTask WriteHeartbeatAsync(CancellationToken cancellationToken)
    {
        response.BodyWriter.Write(": keep-alive\n\n"u8);
        return ValueTask.CompletedTask;
    }

    /// <summary><c>event: {type}\nid: {seq}\ndata: {json}\n\n</c> — the JSON has no newlines, so one data line.</summary>
    internal static byte[] Encode(LiveMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(320);
        buffer.Write("event: "u8);
        buffer.Write(Encoding.UTF8.GetBytes(LiveJson.TypeName(message.Kind)));
        buffer.Write("\nid: "u8);
        buffer.Write(Encoding.UTF8.GetBytes(message.Seq.ToString(CultureInfo.InvariantCulture)));
        buffer.Write("\ndata: "u8);
        LiveJson.Write(buffer, message);
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
