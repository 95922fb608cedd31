using System.Buffers;
using System.Text.Json;
using Tally.Events;
using Tally.Polls;
using Tally.Server.Endpoints;
using Tally.Webhooks;

namespace Tally.Server.Webhooks;

/// <summary>
/// What each log event sends, in the Standard Webhooks payload shape: <c>{type, timestamp, data}</c>. Every
/// <c>data</c> carries the poll's id and the event's <c>seq</c> (a receiver orders and dedupes by them) and its log
/// <c>position</c> (what a replay starts after). The message id is <c>msg_{pollId}_{seq}</c>: one per event, the same
/// on every retry and replay and on every node.
/// </summary>
internal static class WebhookPayloads
{
    /// <summary>The webhook type of an event, <see cref="WebhookEvents.None"/> for the events no webhook sends (scores, joins, text answers, moderation).</summary>
    public static WebhookEvents TypeOf(PollEvent e, PollDefinition poll)
    {
        var isEvent = poll.Kind == PollKind.Event;
        return e switch
        {
            VoteCast => WebhookEvents.VoteCounted,
            VoteChanged => WebhookEvents.VoteChanged,
            BallotErased => WebhookEvents.VoteErased,
            PollCreated => WebhookEvents.PollCreated,
            PollOpened => isEvent ? WebhookEvents.EventStarted : WebhookEvents.PollOpened,
            PollReopened => WebhookEvents.PollOpened,
            PollClosed => isEvent ? WebhookEvents.EventEnded : WebhookEvents.PollClosed,
            PollPaused => WebhookEvents.PollPaused,
            PollResumed => WebhookEvents.PollResumed,
            QuestionShown => WebhookEvents.QuestionShown,
            ResultsRevealed => WebhookEvents.QuestionRevealed,
            _ => WebhookEvents.None,
        };
    }

    public static string MessageId(PollEvent e) => "msg_" + e.PollId + "_" + e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The payload's bytes (UTF-8 JSON), signed and sent as they are.</summary>
    public static byte[] Write(StoredEvent stored, PollDefinition poll, WebhookEvents type, WebhookVoters voters, byte[] voterHashKey)
    {
        var e = stored.Event;
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", WebhookEventTypes.Name(type));
            json.WriteString("timestamp", e.At.UtcDateTime);
            json.WriteStartObject("data");
            json.WriteString(poll.Kind == PollKind.Event ? "eventId" : "pollId", e.PollId);
            if (poll.EventId is { } eventId)
            {
                json.WriteString("eventId", eventId);
            }

            json.WriteNumber("seq", e.Seq);
            json.WriteNumber("position", stored.Position);
            json.WriteString("workspace", poll.Workspace);
            switch (e)
            {
                case VoteCast cast:
                    json.WriteString("voteId", cast.VoteId);
                    Options(json, "optionIds", cast.OptionIds);
                    Voter(json, poll, cast.VoterId, voters, voterHashKey);
                    break;
                case VoteChanged changed:
                    json.WriteString("voteId", changed.VoteId);
                    Options(json, "optionIds", changed.OptionIds);
                    Options(json, "previousOptionIds", changed.PreviousOptionIds);
                    Voter(json, poll, changed.VoterId, voters, voterHashKey);
                    break;
                case BallotErased erased:
                    json.WriteString("voteId", erased.VoteId);
                    Options(json, "optionIds", erased.OptionIds);
                    break;
                case PollCreated created:
                    json.WriteString("kind", Contracts.ContractMapping.Name(created.Definition.Kind));
                    json.WriteString("question", created.Definition.Question);
                    break;
                case PollOpened opened:
                    json.WriteString("reason", opened.Reason == OpenReason.Scheduled ? "scheduled" : "admin");
                    break;
                case PollReopened:
                    json.WriteString("reason", "reopened");
                    break;
                case PollClosed closed:
                    json.WriteString("reason", closed.Reason switch { CloseReason.Expired => "expired", CloseReason.Limit => "limit", _ => "admin" });
                    break;
                case QuestionShown shown:
                    json.WriteNumber("question", shown.Question);
                    json.WriteString("questionPollId", EventIds.QuestionId(e.PollId, shown.Question));
                    break;
                case ResultsRevealed revealed:
                    json.WriteNumber("question", revealed.Question);
                    json.WriteString("questionPollId", EventIds.QuestionId(e.PollId, revealed.Question));
                    break;
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void Options(Utf8JsonWriter json, string name, int[] optionIds)
    {
        json.WriteStartArray(name);
        foreach (var id in optionIds)
        {
            json.WriteNumberValue(id);
        }

        json.WriteEndArray();
    }

    private static void Voter(Utf8JsonWriter json, PollDefinition poll, string? voterId, WebhookVoters voters, byte[] key)
    {
        if (voterId is null || voters == WebhookVoters.Omitted)
        {
            return;
        }

        json.WriteString("voter", voters == WebhookVoters.Raw ? voterId : ExportWriter.HashVoter(key, poll, voterId));
    }
}
