using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using MessagePack;
using Tally.Engine;
using Tally.Live;
using Tally.Server.Contracts;

namespace Tally.Server.Transports.WebSockets;

/// <summary><c>tally.msgpack.v1</c>: one MessagePack map per binary frame, with the keys and values of <c>tally.json.v1</c>.</summary>
internal sealed class MessagePackWebSocketProtocol : WebSocketProtocol
{
    private static readonly Func<LiveMessage, byte[]> EncodeOnce = LiveMessagePack.Encode;

    /// <summary>
    /// MessagePack's own string reading replaces invalid UTF-8 with U+FFFD, so two different byte strings
    /// would read as one voter id; strings are decoded with this instead, which refuses them.
    /// </summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public override string Name => "tally.msgpack.v1";

    public override WebSocketMessageType MessageType => WebSocketMessageType.Binary;

    public override byte[] Encode(LiveMessage message) => message.GetEncoded(LiveFormats.WebSocketMessagePack, EncodeOnce);

    public override bool TryRead(ReadOnlyMemory<byte> message, ClientOp op, out string? error)
    {
        try
        {
            var reader = new MessagePackReader(message);
            if (reader.End || reader.NextMessagePackType != MessagePackType.Map)
            {
                error = "A message is one MessagePack map, like {\"op\":\"subscribe\",\"pollId\":\"…\"}.";
                return false;
            }

            var count = reader.ReadMapHeader();
            for (var i = 0; i < count; i++)
            {
                if (reader.NextMessagePackType != MessagePackType.String || !reader.TryReadStringSpan(out var name))
                {
                    error = "The keys of a message are strings.";
                    return false;
                }

                var field = ClientOp.FieldOf(name);
                error = op.Accept(field, name);
                if (error is not null)
                {
                    return false;
                }

                switch (field)
                {
                    case ClientOp.Field.Op:
                        op.Op = ReadString(ref reader, "op", out error);
                        break;
                    case ClientOp.Field.PollId:
                        op.PollId = ReadString(ref reader, "pollId", out error);
                        break;
                    case ClientOp.Field.VoterId:
                        op.VoterId = ReadString(ref reader, "voterId", out error);
                        break;
                    case ClientOp.Field.RequestId:
                        op.RequestId = ReadString(ref reader, "requestId", out error);
                        break;
                    case ClientOp.Field.IdempotencyKey:
                        op.IdempotencyKey = ReadString(ref reader, "idempotencyKey", out error);
                        break;
                    case ClientOp.Field.InviteCode:
                        op.InviteCode = ReadString(ref reader, "inviteCode", out error);
                        break;
                    case ClientOp.Field.Token:
                        op.Token = ReadString(ref reader, "token", out error);
                        break;
                    case ClientOp.Field.Since:
                        op.Since = ReadSince(ref reader, out error);
                        break;
                    case ClientOp.Field.Value:
                        op.Value = ReadValue(ref reader, out error);
                        break;
                    case ClientOp.Field.Text:
                        op.Text = ReadString(ref reader, "text", out error);
                        break;
                    case ClientOp.Field.Upvote:
                        op.Upvote = ReadString(ref reader, "upvote", out error);
                        break;
                    default:
                        op.OptionIds = ReadOptionIds(ref reader, out error);
                        break;
                }

                if (error is not null)
                {
                    return false;
                }
            }

            if (!reader.End)
            {
                error = "A message is one MessagePack map; something follows it.";
                return false;
            }

            error = null;
            return true;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            error = "The message is not valid MessagePack.";
            return false;
        }
    }

    public override void WriteAck(IBufferWriter<byte> buffer, string requestId, VoteOutcome outcome)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(5);
        writer.WriteString("type"u8);
        writer.WriteString("ack"u8);
        writer.WriteString("requestId"u8);
        writer.Write(requestId);
        writer.WriteString("voteId"u8);
        writer.Write(outcome.VoteId);
        writer.WriteString("seq"u8);
        writer.Write(outcome.Seq);
        writer.WriteString("status"u8);
        writer.Write(ContractMapping.Name(outcome.Status));
        writer.Flush();
    }

    public override void WriteStanding(IBufferWriter<byte> buffer, string eventId, string? requestId, Tally.Projections.LeaderboardEntry entry)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(requestId is null ? 8 : 9);
        writer.WriteString("type"u8);
        writer.WriteString("standing"u8);
        writer.WriteString("pollId"u8);
        writer.Write(eventId);
        if (requestId is not null)
        {
            writer.WriteString("requestId"u8);
            writer.Write(requestId);
        }

        writer.WriteString("rank"u8);
        writer.Write(entry.Rank);
        writer.WriteString("name"u8);
        writer.Write(entry.Name);
        writer.WriteString("score"u8);
        writer.Write(entry.Score);
        writer.WriteString("streak"u8);
        writer.Write(entry.Streak);
        writer.WriteString("correct"u8);
        writer.Write(entry.Correct);
        writer.WriteString("answered"u8);
        writer.Write(entry.Answered);
        writer.Flush();
    }

    public override void WriteError(IBufferWriter<byte> buffer, OpError error)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(2 + (error.RequestId is null ? 0 : 1) + (error.PollId is null ? 0 : 1));
        writer.WriteString("type"u8);
        writer.WriteString("error"u8);
        if (error.RequestId is { } requestId)
        {
            writer.WriteString("requestId"u8);
            writer.Write(requestId);
        }

        if (error.PollId is { } pollId)
        {
            writer.WriteString("pollId"u8);
            writer.Write(pollId);
        }

        var errors = error.Errors is { Count: > 0 } e ? e : null;
        writer.WriteString("error"u8);
        writer.WriteMapHeader(errors is null ? 3 : 4);
        writer.WriteString("type"u8);
        writer.Write(error.Type);
        writer.WriteString("title"u8);
        writer.Write(error.Title);
        writer.WriteString("detail"u8);
        writer.Write(error.Detail);
        if (errors is not null)
        {
            writer.WriteString("errors"u8);
            writer.WriteMapHeader(errors.Count);
            foreach (var (key, messages) in errors)
            {
                writer.Write(key);
                writer.WriteArrayHeader(messages.Length);
                foreach (var message in messages)
                {
                    writer.Write(message);
                }
            }
        }

        writer.Flush();
    }

    public override void WritePong(IBufferWriter<byte> buffer, string? requestId)
    {
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(requestId is null ? 1 : 2);
        writer.WriteString("type"u8);
        writer.WriteString("pong"u8);
        if (requestId is not null)
        {
            writer.WriteString("requestId"u8);
            writer.Write(requestId);
        }

        writer.Flush();
    }

    private static string? ReadString(ref MessagePackReader reader, string key, out string? error)
    {
        error = null;
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.NextMessagePackType == MessagePackType.String)
        {
            var utf8 = reader.ReadStringSequence()!.Value;
            try
            {
                return StrictUtf8.GetString(utf8);
            }
            catch (DecoderFallbackException)
            {
                error = $"{key} is not valid UTF-8.";
                return null;
            }
        }

        error = $"{key} is a string.";
        return null;
    }

    private static int? ReadValue(ref MessagePackReader reader, out string? error)
    {
        error = null;
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.NextMessagePackType == MessagePackType.Integer)
        {
            var value = reader.ReadInt64();
            if (value is >= int.MinValue and <= int.MaxValue)
            {
                return (int)value;
            }
        }

        error = ValueError;
        return null;
    }

    private static long? ReadSince(ref MessagePackReader reader, out string? error)
    {
        error = null;
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.NextMessagePackType == MessagePackType.Integer)
        {
            return reader.ReadInt64();
        }

        error = "since is a seq: a whole number from an earlier message.";
        return null;
    }

    private static int[]? ReadOptionIds(ref MessagePackReader reader, out string? error)
    {
        error = null;
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.NextMessagePackType == MessagePackType.Array)
        {
            // ReadArrayHeader refuses a count larger than the bytes left, so a forged count cannot make a huge array.
            var ids = new int[reader.ReadArrayHeader()];
            for (var i = 0; i < ids.Length; i++)
            {
                if (reader.NextMessagePackType != MessagePackType.Integer)
                {
                    ids = null;
                    break;
                }

                ids[i] = reader.ReadInt32();
            }

            if (ids is not null)
            {
                return ids;
            }
        }

        error = "optionIds is an array of option ids (whole numbers).";
        return null;
    }
}
