using System.Buffers;
using MessagePack;
using Tally.Live;
using Tally.Polls;
using Tally.Projections;
using Tally.Server.Contracts;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// Live messages as MessagePack maps with the same keys and values as <see cref="LiveJson"/>:
/// snapshot <c>{type, pollId, seq, status, totalVotes, options:[{id,text,votes}], watchers}</c>,
/// delta <c>{type, pollId, seq, status?, totalVotes, changes:[{id,votes}], watchers?}</c>,
/// closed <c>{type, pollId, seq, status, totalVotes}</c>; on a rating or nps poll, each snapshot option's <c>value</c> and
/// the <c>summary</c> map as in JSON (a mean or score with no ballot is nil; both are float64); an event's <c>event</c> and a
/// quiz question's <c>quiz</c> maps transcoded from their JSON form (times are ISO 8601 strings there too). Integers take their
/// smallest encoding.
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
        var scale = message.Results.Poll.Kind.IsScale();
        var summary = message.IsPresenceOnly ? null : ScaleSummary.Of(message.Results);
        var ranking = message.IsPresenceOnly ? null : message.Results.Ranking;
        var more = message.IsPresenceOnly ? null : EventAndQuiz(message.Results);
        switch (message.Kind)
        {
            case LiveMessageKind.Snapshot:
                writer.WriteMapHeader(7 + Extra(summary, ranking, more));
                WriteHead(ref writer, "snapshot"u8, message);
                writer.WriteString("status"u8);
                writer.Write(ContractMapping.Name(message.Status, message.Results.Poll));
                writer.WriteString("totalVotes"u8);
                writer.Write(message.TotalVotes);
                writer.WriteString("options"u8);
                var poll = message.Results.Poll;
                writer.WriteArrayHeader(poll.Options.Count);
                for (var i = 0; i < poll.Options.Count; i++)
                {
                    writer.WriteMapHeader(scale ? 4 : 3);
                    writer.WriteString("id"u8);
                    writer.Write(poll.Options[i].Id);
                    writer.WriteString("text"u8);
                    writer.Write(poll.Options[i].Text);
                    writer.WriteString("votes"u8);
                    writer.Write(message.Results.Counts[i]);
                    if (scale)
                    {
                        writer.WriteString("value"u8);
                        writer.Write(poll.ValueOf(poll.Options[i].Id));
                    }
                }

                writer.WriteString("watchers"u8);
                writer.Write(message.Watchers ?? 0);
                WriteSummary(ref writer, summary);
                WriteRanking(ref writer, ranking);
                WriteMore(ref writer, more);
                break;
            case LiveMessageKind.Delta:
                writer.WriteMapHeader((message.Watchers is null ? 5 : 6) + Extra(summary, ranking, more) + (message.StatusChanged ? 1 : 0));
                WriteHead(ref writer, "delta"u8, message);
                if (message.StatusChanged)
                {
                    writer.WriteString("status"u8);
                    writer.Write(ContractMapping.Name(message.Status, message.Results.Poll));
                }

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

                WriteSummary(ref writer, summary);
                WriteRanking(ref writer, ranking);
                WriteMore(ref writer, more);
                break;
            default:
                writer.WriteMapHeader(5 + Extra(summary, ranking, more));
                WriteHead(ref writer, "closed"u8, message);
                writer.WriteString("status"u8);
                writer.Write(ContractMapping.Name(message.Status, message.Results.Poll));
                writer.WriteString("totalVotes"u8);
                writer.Write(message.TotalVotes);
                WriteSummary(ref writer, summary);
                WriteRanking(ref writer, ranking);
                WriteMore(ref writer, more);
                break;
        }

        writer.Flush();
    }

    private static int Extra(ScaleSummary? summary, RankingResults? ranking, List<(string Key, string Json)>? more) =>
        (summary is null ? 0 : 1) + (ranking is null ? 0 : 1) + (more?.Count ?? 0);

    /// <summary>An event's <c>event</c> and a quiz question's <c>quiz</c>, as their JSON form (the same contract types), to transcode.</summary>
    private static List<(string Key, string Json)>? EventAndQuiz(PollResults results)
    {
        List<(string, string)>? more = null;
        if (ContractMapping.ToEventLiveResponse(results) is { } ev)
        {
            (more ??= []).Add(("event", System.Text.Json.JsonSerializer.Serialize(ev, TallyJsonContext.Default.EventLiveResponse)));
        }

        if (ContractMapping.ToQuestionsResponse(results) is { } questions)
        {
            (more ??= []).Add(("questions", System.Text.Json.JsonSerializer.Serialize(questions, TallyJsonContext.Default.QuestionsResponse)));
        }

        if (ContractMapping.ToTextResponse(results.Text) is { } text)
        {
            (more ??= []).Add(("text", System.Text.Json.JsonSerializer.Serialize(text, TallyJsonContext.Default.TextResponse)));
        }

        if (ContractMapping.ToQuizResponse(results) is { } quiz)
        {
            (more ??= []).Add(("quiz", System.Text.Json.JsonSerializer.Serialize(quiz, TallyJsonContext.Default.QuizResponse)));
        }

        return more;
    }

    /// <summary>Writes <see cref="EventAndQuiz"/>'s parts: the JSON transcoded to MessagePack, so the keys and values are the JSON form's.</summary>
    private static void WriteMore(ref MessagePackWriter writer, List<(string Key, string Json)>? more)
    {
        foreach (var (key, json) in more ?? [])
        {
            writer.Write(key);
            using var reader = new StringReader(json);
            MessagePackSerializer.ConvertFromJson(reader, ref writer);
        }
    }

    /// <summary>A ranking poll's <c>ranking</c> map, with the keys of the JSON form.</summary>
    private static void WriteRanking(ref MessagePackWriter writer, RankingResults? ranking)
    {
        if (ranking is null)
        {
            return;
        }

        writer.WriteString("ranking"u8);
        writer.WriteMapHeader(3);
        writer.WriteString("ballots"u8);
        writer.Write(ranking.Ballots);
        writer.WriteString("scores"u8);
        writer.WriteString("borda"u8);
        writer.WriteString("instantRunoff"u8);
        writer.WriteMapHeader(2);
        writer.WriteString("winner"u8);
        if (ranking.Irv.Winner is { } winner)
        {
            writer.Write(winner);
        }
        else
        {
            writer.WriteNil();
        }

        writer.WriteString("rounds"u8);
        writer.WriteArrayHeader(ranking.Irv.Rounds.Count);
        for (var i = 0; i < ranking.Irv.Rounds.Count; i++)
        {
            var round = ranking.Irv.Rounds[i];
            var last = round.Eliminated is null;
            writer.WriteMapHeader(last ? 3 : 6);
            writer.WriteString("round"u8);
            writer.Write(i + 1);
            writer.WriteString("votes"u8);
            WriteOptionVotes(ref writer, round.Votes);
            writer.WriteString("exhausted"u8);
            writer.Write(round.Exhausted);
            if (!last)
            {
                writer.WriteString("eliminated"u8);
                writer.Write(round.Eliminated!.Value);
                writer.WriteString("transfers"u8);
                WriteOptionVotes(ref writer, round.Transfers);
                writer.WriteString("transferredToExhausted"u8);
                writer.Write(round.TransferredToExhausted);
            }
        }
    }

    private static void WriteOptionVotes(ref MessagePackWriter writer, IReadOnlyList<OptionVotes> votes)
    {
        writer.WriteArrayHeader(votes.Count);
        foreach (var v in votes)
        {
            writer.WriteMapHeader(2);
            writer.WriteString("id"u8);
            writer.Write(v.Id);
            writer.WriteString("votes"u8);
            writer.Write(v.Votes);
        }
    }

    private static void WriteSummary(ref MessagePackWriter writer, ScaleSummary? summary)
    {
        if (summary is null)
        {
            return;
        }

        writer.WriteString("summary"u8);
        writer.WriteMapHeader(summary.Nps is null ? 3 : 4);
        writer.WriteString("count"u8);
        writer.Write(summary.Count);
        writer.WriteString("sum"u8);
        writer.Write(summary.Sum);
        writer.WriteString("mean"u8);
        WriteDoubleOrNil(ref writer, summary.Mean);
        if (summary.Nps is { } nps)
        {
            writer.WriteString("nps"u8);
            writer.WriteMapHeader(4);
            writer.WriteString("promoters"u8);
            writer.Write(nps.Promoters);
            writer.WriteString("passives"u8);
            writer.Write(nps.Passives);
            writer.WriteString("detractors"u8);
            writer.Write(nps.Detractors);
            writer.WriteString("score"u8);
            WriteDoubleOrNil(ref writer, nps.Score);
        }
    }

    private static void WriteDoubleOrNil(ref MessagePackWriter writer, double? value)
    {
        if (value is { } v)
        {
            writer.Write(v);
        }
        else
        {
            writer.WriteNil();
        }
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
