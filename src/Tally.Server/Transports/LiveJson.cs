using System.Buffers;
using System.Text.Json;
using Tally.Live;
using Tally.Polls;
using Tally.Server.Contracts;

namespace Tally.Server.Transports;

/// <summary>
/// The JSON form of live messages, shared by SSE (as the <c>data</c>) and the <c>tally.json.v1</c>
/// WebSocket subprotocol:
/// snapshot <c>{type, pollId, seq, status, totalVotes, options:[{id,text,votes}], watchers}</c>,
/// delta <c>{type, pollId, seq, status?, totalVotes, changes:[{id,votes}], watchers?}</c> (<c>status</c> when it changed: opened, paused, resumed),
/// closed <c>{type, pollId, seq, status, totalVotes}</c>. On a rating or nps poll each snapshot option also has its
/// <c>value</c>, and every message but a presence-only delta carries <c>summary:{count, sum, mean, nps?}</c>; on a
/// ranking poll each carries <c>ranking</c> as the results do (the options' <c>votes</c> being Borda scores); on an event,
/// <c>event:{progress, leaderboard}</c> as <c>GET /v1/events/{id}</c> has them; on a quiz question, <c>quiz</c> as the poll has it.
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
                json.WriteString("status"u8, ContractMapping.Name(message.Status, message.Results.Poll));
                json.WriteNumber("totalVotes"u8, message.TotalVotes);
                json.WriteStartArray("options"u8);
                var poll = message.Results.Poll;
                for (var i = 0; i < poll.Options.Count; i++)
                {
                    json.WriteStartObject();
                    json.WriteNumber("id"u8, poll.Options[i].Id);
                    json.WriteString("text"u8, poll.Options[i].Text);
                    json.WriteNumber("votes"u8, message.Results.Counts[i]);
                    if (poll.Kind.IsScale())
                    {
                        json.WriteNumber("value"u8, poll.ValueOf(poll.Options[i].Id));
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteNumber("watchers"u8, message.Watchers ?? 0);
                WriteKindResults(json, message);
                break;
            case LiveMessageKind.Delta:
                if (message.StatusChanged)
                {
                    json.WriteString("status"u8, ContractMapping.Name(message.Status, message.Results.Poll));
                }

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

                WriteKindResults(json, message);
                break;
            default:
                json.WriteString("status"u8, ContractMapping.Name(message.Status, message.Results.Poll));
                json.WriteNumber("totalVotes"u8, message.TotalVotes);
                WriteKindResults(json, message);
                break;
        }

        json.WriteEndObject();
    }

    /// <summary>
    /// What the poll's kind adds (a ranking poll's <c>ranking</c>, a scale poll's <c>summary</c>), on every message that can
    /// change it (not a presence-only delta): the HTTP results' own shapes, serialized by the same contract types.
    /// </summary>
    private static void WriteKindResults(Utf8JsonWriter json, LiveMessage message)
    {
        if (message.IsPresenceOnly)
        {
            return;
        }

        if (ContractMapping.ToRankingResponse(message.Results.Ranking) is { } ranking)
        {
            json.WritePropertyName("ranking"u8);
            JsonSerializer.Serialize(json, ranking, TallyJsonContext.Default.RankingResponse);
        }

        if (ContractMapping.ToSummaryResponse(Projections.ScaleSummary.Of(message.Results)) is { } summary)
        {
            json.WritePropertyName("summary"u8);
            JsonSerializer.Serialize(json, summary, TallyJsonContext.Default.SummaryResponse);
        }

        if (ContractMapping.ToEventLiveResponse(message.Results) is { } ev)
        {
            json.WritePropertyName("event"u8);
            JsonSerializer.Serialize(json, ev, TallyJsonContext.Default.EventLiveResponse);
        }

        if (ContractMapping.ToQuestionsResponse(message.Results) is { } questions)
        {
            json.WritePropertyName("questions"u8);
            JsonSerializer.Serialize(json, questions, TallyJsonContext.Default.QuestionsResponse);
        }

        if (ContractMapping.ToTextResponse(message.Results.Text) is { } text)
        {
            json.WritePropertyName("text"u8);
            JsonSerializer.Serialize(json, text, TallyJsonContext.Default.TextResponse);
        }

        if (ContractMapping.ToQuizResponse(message.Results) is { } quiz)
        {
            json.WritePropertyName("quiz"u8);
            JsonSerializer.Serialize(json, quiz, TallyJsonContext.Default.QuizResponse);
        }
    }

    public static byte[] Encode(LiveMessage message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, message);
        return buffer.WrittenSpan.ToArray();
    }
}
