using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Tally.Engine;
using Tally.Live;
using Tally.Server.Contracts;

namespace Tally.Server.Transports.WebSockets;

/// <summary><c>tally.json.v1</c>: one JSON object per text frame; hub messages in the same form as SSE's data (<see cref="LiveJson"/>).</summary>
internal sealed class JsonWebSocketProtocol : WebSocketProtocol
{
    private static readonly Func<LiveMessage, byte[]> EncodeOnce = LiveJson.Encode;
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 8 };

    public override string Name => "tally.json.v1";

    public override WebSocketMessageType MessageType => WebSocketMessageType.Text;

    public override byte[] Encode(LiveMessage message) => message.GetEncoded(LiveFormats.WebSocketJson, EncodeOnce);

    public override bool TryRead(ReadOnlyMemory<byte> message, ClientOp op, out string? error)
    {
        try
        {
            var reader = new Utf8JsonReader(message.Span, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "A message is one JSON object, like {\"op\":\"subscribe\",\"pollId\":\"…\"}.";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                ReadOnlySpan<byte> name = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
                var field = ClientOp.FieldOf(name);
                error = op.Accept(field, name);
                if (error is not null)
                {
                    return false;
                }

                reader.Read();
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

            if (reader.Read())
            {
                error = "A message is one JSON object; something follows it.";
                return false;
            }

            error = null;
            return true;
        }
        catch (JsonException ex)
        {
            error = $"The message is not valid JSON (at byte {ex.BytePositionInLine ?? 0}).";
            return false;
        }
        catch (InvalidOperationException)
        {
            // GetString: bytes that are not UTF-8, or an escape of an unpaired surrogate ("\ud800"), which no text has.
            error = "The message has a string that is not valid text: invalid UTF-8, or an unpaired surrogate escape.";
            return false;
        }
    }

    public override void WriteAck(IBufferWriter<byte> buffer, string requestId, VoteOutcome outcome)
    {
        using var json = new Utf8JsonWriter(buffer);
        json.WriteStartObject();
        json.WriteString("type"u8, "ack"u8);
        json.WriteString("requestId"u8, requestId);
        json.WriteString("voteId"u8, outcome.VoteId);
        json.WriteNumber("seq"u8, outcome.Seq);
        json.WriteString("status"u8, ContractMapping.Name(outcome.Status));
        json.WriteEndObject();
    }

    public override void WriteStanding(IBufferWriter<byte> buffer, string eventId, string? requestId, Tally.Projections.LeaderboardEntry entry)
    {
        using var json = new Utf8JsonWriter(buffer);
        json.WriteStartObject();
        json.WriteString("type"u8, "standing"u8);
        json.WriteString("pollId"u8, eventId);
        if (requestId is not null)
        {
            json.WriteString("requestId"u8, requestId);
        }

        json.WriteNumber("rank"u8, entry.Rank);
        json.WriteString("name"u8, entry.Name);
        json.WriteNumber("score"u8, entry.Score);
        json.WriteNumber("streak"u8, entry.Streak);
        json.WriteNumber("correct"u8, entry.Correct);
        json.WriteNumber("answered"u8, entry.Answered);
        json.WriteEndObject();
    }

    public override void WriteError(IBufferWriter<byte> buffer, OpError error)
    {
        using var json = new Utf8JsonWriter(buffer);
        json.WriteStartObject();
        json.WriteString("type"u8, "error"u8);
        if (error.RequestId is { } requestId)
        {
            json.WriteString("requestId"u8, requestId);
        }

        if (error.PollId is { } pollId)
        {
            json.WriteString("pollId"u8, pollId);
        }

        json.WriteStartObject("error"u8);
        json.WriteString("type"u8, error.Type);
        json.WriteString("title"u8, error.Title);
        json.WriteString("detail"u8, error.Detail);
        if (error.Errors is { Count: > 0 } errors)
        {
            json.WriteStartObject("errors"u8);
            foreach (var (key, messages) in errors)
            {
                json.WriteStartArray(key);
                foreach (var message in messages)
                {
                    json.WriteStringValue(message);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    public override void WritePong(IBufferWriter<byte> buffer, string? requestId)
    {
        using var json = new Utf8JsonWriter(buffer);
        json.WriteStartObject();
        json.WriteString("type"u8, "pong"u8);
        if (requestId is not null)
        {
            json.WriteString("requestId"u8, requestId);
        }

        json.WriteEndObject();
    }

    private static string? ReadString(ref Utf8JsonReader reader, string key, out string? error)
    {
        error = reader.TokenType is JsonTokenType.String or JsonTokenType.Null ? null : $"{key} is a string.";
        return error is null ? reader.GetString() : null;
    }

    private static int? ReadValue(ref Utf8JsonReader reader, out string? error)
    {
        error = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value))
        {
            return value;
        }

        error = ValueError;
        return null;
    }

    private static long? ReadSince(ref Utf8JsonReader reader, out string? error)
    {
        error = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var since))
        {
            return since;
        }

        error = "since is a seq: a whole number from an earlier message.";
        return null;
    }

    private static int[]? ReadOptionIds(ref Utf8JsonReader reader, out string? error)
    {
        error = null;
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType == JsonTokenType.StartArray)
        {
            var ids = new List<int>(4);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var id))
                {
                    break;
                }

                ids.Add(id);
            }

            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return [.. ids];
            }
        }

        error = "optionIds is an array of option ids (whole numbers).";
        return null;
    }
}
