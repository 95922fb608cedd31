using System.Buffers;
using MessagePack;
using Tally.Live;
using Tally.Server.Contracts;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// Live messages as MessagePack maps with the same keys and values as <see cref="LiveJson"/>:
/// snapshot <c>{type, pollId, seq, status, totalVotes, options:[{id,text,votes}], watchers}</c>,
/// delta <c>{type, pollId, seq, totalVotes, changes:[{id,votes}], watchers?}</c>,
/// closed <c>{type, pollId, seq, status, totalVotes}</c>. Integers take their smallest encoding.
/// </summary>
internal static class LiveMessagePack
{
    public static byte[] Encode(LiveMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> buffer, LiveMessage message)
    {
        var writer = new MessagePackWriter(buffer);
        switch (message.Kind)
        {
            case LiveMessageKind.Snapshot:
                writer.WriteMapHeader(7);
                WriteHead(ref writer, "snapshot"u8, message);
                writer.WriteString("status"u8);
                writer.Write(ContractMapping.Name(message.Status));
                writer.WriteString("totalVotes"u8);
                writer.Write(message.TotalVotes);
                writer.WriteString("options"u8);
                var poll = message.Results.Poll;
                writer.WriteArrayHeader(poll.Options.Count);
                for (var i = 0; i < poll.Options.Count; i++)
                {
                    writer.WriteMapHeader(3);
                    writer.WriteString("id"u8);
                    writer.Write(poll.Options[i].Id);
                    writer.WriteString("text"u8);
                    writer.Write(poll.Options[i].Text);
                    writer.WriteString("votes"u8);
                    writer.Write(message.Results.Counts[i]);
                }

                writer.WriteString("watchers"u8);
                writer.Write(message.Watchers ?? 0);
                break;
            case LiveMessageKind.Delta:
                writer.WriteMapHeader(message.Watchers is null ? 5 : 6);
                WriteHead(ref writer, "delta"u8, message);
                writer.WriteString("totalVotes"u8);
                writer.Write(message.TotalVotes);
                writer.WriteString("changes"u8);
                writer.WriteArrayHeader(message.Changes.Count);
                foreach (var change in message.Changes)
                {
                    writer.WriteMapHeader(2);
                    writer.WriteString("id"u8);
                    writer.Write(change.Id);
                    writer.WriteString("votes"u8);
                    writer.Write(change.Votes);
                }

                if (message.Watchers is { } watchers)
                {
                    writer.WriteString("watchers"u8);
                    writer.Write(watchers);
                }

                break;
            default:
                writer.WriteMapHeader(5);
                WriteHead(ref writer, "closed"u8, message);
                writer.WriteString("status"u8);
                writer.Write(ContractMapping.Name(message.Status));
                writer.WriteString("totalVotes"u8);
                writer.Write(message.TotalVotes);
                break;
        }

        writer.Flush();
    }

    private static void WriteHead(ref MessagePackWriter writer, ReadOnlySpan<byte> type, LiveMessage message)
    {
        writer.WriteString("type"u8);
        writer.WriteString(type);
        writer.WriteString("pollId"u8);
        writer.Write(message.PollId);
        writer.WriteString("seq"u8);
        writer.Write(message.Seq);
    }
}
