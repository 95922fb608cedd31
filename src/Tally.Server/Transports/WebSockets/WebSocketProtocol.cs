using System.Buffers;
using System.Net.WebSockets;
using Tally.Engine;
using Tally.Live;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// A subprotocol of <c>/v1/ws</c>: how ops are read and messages written. Both carry the same keys and
/// values; <c>tally.json.v1</c> in text frames, <c>tally.msgpack.v1</c> in binary frames.
/// </summary>
internal abstract class WebSocketProtocol
{
    public static readonly WebSocketProtocol Json = new JsonWebSocketProtocol();

    public static readonly WebSocketProtocol MessagePack = new MessagePackWebSocketProtocol();

    /// <summary>The subprotocols offered, in the server's order.</summary>
    public static readonly IReadOnlyList<WebSocketProtocol> All = [Json, MessagePack];

    /// <summary>The error for a <c>value</c> that is not a whole number (32-bit), in either subprotocol.</summary>
    protected const string ValueError = "value is a whole number from the poll's scale.";

    /// <summary>The <c>Sec-WebSocket-Protocol</c> name.</summary>
    public abstract string Name { get; }

    /// <summary>The frame type of every message, both ways.</summary>
    public abstract WebSocketMessageType MessageType { get; }

    public static WebSocketProtocol? Find(string name)
    {
        foreach (var protocol in All)
        {
            if (string.Equals(protocol.Name, name, StringComparison.Ordinal))
            {
                return protocol;
            }
        }

        return null;
    }

    /// <summary>A hub message in this format: encoded by the first socket that sends it, shared by the others.</summary>
    public abstract byte[] Encode(LiveMessage message);

    /// <summary>Reads one client message into <paramref name="op"/>; false with a sentence for the client when it is malformed.</summary>
    public abstract bool TryRead(ReadOnlyMemory<byte> message, ClientOp op, out string? error);

    /// <summary><c>{type:"ack", requestId, voteId, seq, status}</c>.</summary>
    public abstract void WriteAck(IBufferWriter<byte> buffer, string requestId, VoteOutcome outcome);

    /// <summary><c>{type:"error", requestId?, pollId?, error:{type, title, detail, errors?}}</c>.</summary>
    public abstract void WriteError(IBufferWriter<byte> buffer, OpError error);

    /// <summary><c>{type:"standing", pollId, requestId?, rank, name, score, streak, correct, answered}</c>: a participant's own place in an event.</summary>
    public abstract void WriteStanding(IBufferWriter<byte> buffer, string eventId, string? requestId, Tally.Projections.LeaderboardEntry entry);

    /// <summary><c>{type:"pong", requestId?}</c>.</summary>
    public abstract void WritePong(IBufferWriter<byte> buffer, string? requestId);
}
