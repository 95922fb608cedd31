using System.Buffers;
using System.Text.Json;
using Tally.Live;
using Tally.Server.Contracts;

namespace Tally.Server.Transports;

/// <summary>
/// The JSON form of live messages, shared by SSE (as the <c>data</c>) and the <c>tally.json.v1</c>
/// WebSocket subprotocol:
/// snapshot <c>{type, pollId, seq, status, totalVotes, options:[{id,text,votes}], watchers}</c>,
/// delta <c>{type, pollId, seq, totalVotes, changes:[{id,votes}], watchers?}</c>,
/// closed <c>{type, pollId, seq, status, totalVotes}</c>.
/// </summary>
internal static class LiveJson
{
    public static string TypeName(LiveMessageKind kind) => kind switch
    {
        LiveMessageKind.Snapshot => "snapshot",
        LiveMessageKind.Delta => "delta",
        _ => "closed",
    };

    public static void Write(IBufferWriter<byte> buffer, LiveMessage message)
    {
        using var json = new Utf8JsonWriter(buffer);
        json.WriteStartObject();
        json.WriteString("type"u8, TypeName(message.Kind));
        json.WriteString("pollId"u8, message.PollId);
        json.WriteNumber("seq"u8, message.Seq);
        switch (message.Kind)
        {
            case LiveMessageKind.Snapshot:
                json.WriteString("status"u8, ContractMapping.Name(message.Status));
                json.WriteNumber("totalVotes"u8, message.TotalVotes);
                json.WriteStartArray("options"u8);
                var poll = message.Results.Poll;
                for (var i = 0; i < poll.Options.Count; i++)
                {
                    json.WriteStartObject();
                    json.WriteNumber("id"u8, poll.Options[i].Id);
                    json.WriteString("text"u8, poll.Options[i].Text);
                    json.WriteNumber("votes"u8, message.Results.Counts[i]);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteNumber("watchers"u8, message.Watchers ?? 0);
                break;
            case LiveMessageKind.Delta:
                json.WriteNumber("totalVotes"u8, message.TotalVotes);
                json.WriteStartArray("changes"u8);
                foreach (var change in message.Changes)
                {
                    json.WriteStartObject();
                    json.WriteNumber("id"u8, change.Id);
                    json.WriteNumber("votes"u8, change.Votes);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                if (message.Watchers is { } watchers)
                {
                    json.WriteNumber("watchers"u8, watchers);
                }

                break;
            default:
                json.WriteString("status"u8, ContractMapping.Name(message.Status));
                json.WriteNumber("totalVotes"u8, message.TotalVotes);
                break;
        }

        json.WriteEndObject();
    }

    public static byte[] Encode(LiveMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }
}
