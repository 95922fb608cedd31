using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tally.Events;
using Tally.Polls;
using Tally.Server.Contracts;

namespace Tally.Server.Endpoints;

/// <summary>How an export shows who voted.</summary>
internal enum VoterShown
{
    /// <summary>An HMAC of the poll id and the voter id under the server's export key: the same voter is the same hash within the poll, and nothing else.</summary>
    Hashed,

    /// <summary>The voter id as the poll knows it (an app's user id, a token's subject, Tally's anonymous id, an invite code's holder).</summary>
    Raw,

    /// <summary>No voter column or field.</summary>
    Omitted,
}

/// <summary>The rows of an export, in either format; one instance per export (it keeps the poll and the hashing key).</summary>
/// <param name="erased">The seqs of the ballots erased on request: their rows show no voter.</param>
internal sealed class ExportWriter(PollDefinition poll, VoterShown shown, byte[] key, IReadOnlySet<long> erased)
{
    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private readonly bool _scale = poll.Kind.IsScale();

    public void WriteNdjsonPoll(Stream output, Projections.PollResults at) =>
        WriteLine(output, "poll"u8, json =>
        {
            json.WritePropertyName("poll"u8);
            JsonSerializer.Serialize(json, at.ToPollResponse(), TallyJsonContext.Default.PollResponse);
            json.WriteString("voters"u8, ExportEndpoints.Name(shown));
        });

    public void WriteNdjsonResults(Stream output, Projections.PollResults at) =>
        WriteLine(output, "results"u8, json =>
        {
            json.WritePropertyName("results"u8);
            JsonSerializer.Serialize(json, at.ToResultsResponse(), TallyJsonContext.Default.ResultsResponse);
        });

    private static void WriteLine(Stream output, ReadOnlySpan<byte> type, Action<Utf8JsonWriter> body)
    {
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("type"u8, type);
            body(json);
            json.WriteEndObject();
        }

        output.Write(NewLine);
    }

    /// <summary>
    /// One event as one line: <c>cast</c> and <c>changed</c> ballots, <c>opened</c>, <c>paused</c>, <c>resumed</c>, <c>closed</c>,
    /// an event's <c>shown</c>, <c>revealed</c>, <c>joined</c> and <c>scored</c>, a text poll's <c>answered</c>, a Q&amp;A poll's
    /// <c>asked</c>, <c>upvoted</c>, <c>question-answered</c> and <c>erased</c>, and the moderation's <c>approved</c>
    /// and <c>rejected</c>; the creation is the first line already.
    /// </summary>
    public void WriteNdjsonEvent(Stream output, PollEvent e)
    {
        if (e is PollCreated)
        {
            return;
        }

        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            switch (e)
            {
                case VoteCast cast:
                    json.WriteString("type"u8, "cast"u8);
                    WriteHead(json, e, cast.VoteId, erased.Contains(cast.Seq) ? null : cast.VoterId);
                    WriteIds(json, "optionIds"u8, cast.OptionIds);
                    WriteValue(json, cast.OptionIds);
                    break;
                case VoteChanged changed:
                    json.WriteString("type"u8, "changed"u8);
                    WriteHead(json, e, changed.VoteId, erased.Contains(changed.BallotSeq) ? null : changed.VoterId);
                    WriteIds(json, "optionIds"u8, changed.OptionIds);
                    WriteValue(json, changed.OptionIds);
                    WriteIds(json, "previousOptionIds"u8, changed.PreviousOptionIds);
                    break;
                case BallotErased gone:
                    json.WriteString("type"u8, "erased"u8);
                    json.WriteNumber("seq"u8, e.Seq);
                    json.WriteString("at"u8, e.At);
                    json.WriteString("voteId"u8, gone.VoteId);
                    WriteIds(json, "optionIds"u8, gone.OptionIds);
                    break;
                case PollClosed closed:
                    json.WriteString("type"u8, "closed"u8);
                    json.WriteNumber("seq"u8, e.Seq);
                    json.WriteString("at"u8, e.At);
                    json.WriteString("reason"u8, ReasonOf(closed.Reason));
                    break;
                case TextAnswered t:
                    json.WriteString("type"u8, "answered"u8);
                    WriteHead(json, e, t.VoteId, erased.Contains(t.Seq) ? null : t.VoterId);
                    json.WriteString("text"u8, t.Text);
                    json.WriteStartArray("terms"u8);
                    foreach (var term in t.Terms)
                    {
                        json.WriteStringValue(term);
                    }

                    json.WriteEndArray();
                    json.WriteBoolean("held"u8, t.Held);
                    break;
                case AnswerModerated m:
                    WriteFact(json, m.Approved ? "approved"u8 : "rejected"u8, e);
                    json.WriteString("voteId"u8, $"{poll.Id}-{m.AnswerSeq.ToString(CultureInfo.InvariantCulture)}");
                    break;
                case QuestionAsked a:
                    json.WriteString("type"u8, "asked"u8);
                    WriteHead(json, e, a.VoteId, erased.Contains(a.Seq) ? null : a.VoterId);
                    json.WriteString("text"u8, a.Text);
                    json.WriteBoolean("held"u8, a.Held);
                    break;
                case QuestionUpvoted u:
                    json.WriteString("type"u8, "upvoted"u8);
                    WriteHead(json, e, u.VoteId, erased.Contains(u.Seq) ? null : u.VoterId);
                    json.WriteString("questionId"u8, u.QuestionId);
                    break;
                case QuestionAnswered x:
                    WriteFact(json, "question-answered"u8, e);
                    json.WriteString("questionId"u8, x.QuestionId);
                    break;
                case QuestionsErased gone:
                    WriteFact(json, "erased"u8, e);
                    json.WriteStartArray("voteIds"u8);
                    foreach (var s in gone.Seqs)
                    {
                        json.WriteStringValue(VoteIds.Format(poll.Id, s));
                    }

                    json.WriteEndArray();
                    break;
                case QuestionShown q:
                    WriteFact(json, "shown"u8, e);
                    json.WriteNumber("question"u8, q.Question);
                    json.WriteNumber("round"u8, q.Round);
                    break;
                case ResultsRevealed r:
                    WriteFact(json, "revealed"u8, e);
                    json.WriteNumber("question"u8, r.Question);
                    break;
                case ParticipantJoined j:
                    WriteFact(json, "joined"u8, e);
                    WriteVoter(json, j.VoterId);
                    if (shown != VoterShown.Omitted)
                    {
                        json.WriteString("name"u8, j.Name);
                    }

                    break;
                case ScoreAwarded a:
                    WriteFact(json, "scored"u8, e);
                    WriteVoter(json, a.VoterId);
                    json.WriteNumber("question"u8, a.Question);
                    json.WriteString("voteId"u8, a.AnswerId);
                    json.WriteBoolean("correct"u8, a.Correct);
                    json.WriteNumber("points"u8, a.Points);
                    json.WriteNumber("bonus"u8, a.Bonus);
                    json.WriteNumber("streak"u8, a.Streak);
                    break;
                default: // opened, paused, resumed, reopened
                    json.WriteString("type"u8, TypeOf(e));
                    json.WriteNumber("seq"u8, e.Seq);
                    json.WriteString("at"u8, e.At);
                    if (e is PollOpened opened)
                    {
                        json.WriteString("reason"u8, opened.Reason == OpenReason.Scheduled ? "scheduled" : "admin");
                    }

                    break;
            }

            json.WriteEndObject();
        }

        output.Write(NewLine);
    }

    public void WriteCsvHeader(Stream output)
    {
        var header = shown == VoterShown.Omitted
            ? "seq,at,type,vote_id,option_ids,previous_option_ids,value\n"
            : "seq,at,type,vote_id,voter,option_ids,previous_option_ids,value\n";
        output.Write(Encoding.UTF8.GetBytes(header));
    }

    /// <summary>
    /// One event as one CSV row (RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled). Option ids
    /// are space-separated, in the ballot's order (a ranking's order). A voter id that a spreadsheet would run as a formula
    /// (it starts with =, +, -, @, a tab or a carriage return) is written with a leading apostrophe.
    /// </summary>
    public void WriteCsvRow(Stream output, PollEvent e)
    {
        var row = new StringBuilder(96);
        row.Append(e.Seq.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(e.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append(',');
        switch (e)
        {
            case VoteCast cast:
                Ballot(row, "cast", cast.VoteId, erased.Contains(cast.Seq) ? null : cast.VoterId, cast.OptionIds, null);
                break;
            case VoteChanged changed:
                Ballot(row, "changed", changed.VoteId, erased.Contains(changed.BallotSeq) ? null : changed.VoterId, changed.OptionIds, changed.PreviousOptionIds);
                break;
            case BallotErased gone:
                Ballot(row, "erased", gone.VoteId, null, gone.OptionIds, null);
                break;
            case PollCreated:
                return; // the header says what the rows are
            case PollClosed closed:
                row.Append(closed.Reason == CloseReason.Admin ? "closed" : "closed-" + ReasonOf(closed.Reason)).Append(',');
                row.Append(shown == VoterShown.Omitted ? ",,," : ",,,,");
                break;
            case ParticipantJoined j:
                Fact(row, "joined", null, j.VoterId, null);
                break;
            case TextAnswered t:
                row.Append(t.Held ? "answered-held" : "answered").Append(',').Append(t.VoteId).Append(',');
                if (shown != VoterShown.Omitted)
                {
                    row.Append(CsvField(Voter(erased.Contains(t.Seq) ? null : t.VoterId))).Append(',');
                }

                row.Append(",,").Append(CsvField(t.Text));
                break;
            case AnswerModerated m:
                Fact(row, m.Approved ? "approved" : "rejected", $"{poll.Id}-{m.AnswerSeq.ToString(CultureInfo.InvariantCulture)}", null, null);
                break;
            case QuestionAsked a:
                // The question's text goes in the last column (value), as a text answer's does.
                row.Append(a.Held ? "asked-held" : "asked").Append(',').Append(a.VoteId).Append(',');
                if (shown != VoterShown.Omitted)
                {
                    row.Append(CsvField(Voter(erased.Contains(a.Seq) ? null : a.VoterId))).Append(',');
                }

                row.Append(",,").Append(CsvField(a.Text));
                break;
            case QuestionUpvoted u:
                // The upvote's own vote id, and in option_ids the question it upvotes.
                row.Append("upvoted").Append(',').Append(u.VoteId).Append(',');
                if (shown != VoterShown.Omitted)
                {
                    row.Append(CsvField(Voter(erased.Contains(u.Seq) ? null : u.VoterId))).Append(',');
                }

                row.Append(u.QuestionId).Append(",,");
                break;
            case QuestionAnswered x:
                Fact(row, "question-answered", x.QuestionId, null, null);
                break;
            case QuestionsErased gone:
                Fact(row, "erased", string.Join(' ', gone.Seqs.Select(s => VoteIds.Format(poll.Id, s))), null, null);
                break;
            case ScoreAwarded a:
                Fact(row, a.Correct ? "scored" : "scored-wrong", a.AnswerId, a.VoterId, a.Points + a.Bonus);
                break;
            case QuestionShown or ResultsRevealed:
                Fact(row, e is QuestionShown q ? "shown-" + q.Question.ToString(CultureInfo.InvariantCulture) : "revealed-" + ((ResultsRevealed)e).Question.ToString(CultureInfo.InvariantCulture), null, null, null);
                break;
            default: // opened, paused, resumed: a row of their own, no ballot fields
                row.Append(TypeOf(e)).Append(',');
                row.Append(shown == VoterShown.Omitted ? ",,," : ",,,,");
                break;
        }

        row.Append('\n');
        output.Write(Encoding.UTF8.GetBytes(row.ToString()));
    }

    private static string ReasonOf(CloseReason reason) => reason switch
    {
        CloseReason.Expired => "expired",
        CloseReason.Limit => "limit",
        _ => "admin",
    };

    private static string TypeOf(PollEvent e) => e switch
    {
        PollOpened => "opened",
        PollPaused => "paused",
        PollResumed => "resumed",
        PollReopened => "reopened",
        _ => throw new ArgumentException($"No export type for {e.GetType().Name}.", nameof(e)),
    };

    /// <summary>An event's fact as a row: its type, the answer it scored (vote_id), the participant, and in <c>value</c> the points and bonus.</summary>
    private void Fact(StringBuilder row, string type, string? voteId, string? voterId, int? value)
    {
        row.Append(type).Append(',').Append(voteId).Append(',');
        if (shown != VoterShown.Omitted)
        {
            row.Append(CsvField(Voter(voterId))).Append(',');
        }

        row.Append(",,").Append(value?.ToString(CultureInfo.InvariantCulture));
    }

    private static void WriteFact(Utf8JsonWriter json, ReadOnlySpan<byte> type, PollEvent e)
    {
        json.WriteString("type"u8, type);
        json.WriteNumber("seq"u8, e.Seq);
        json.WriteString("at"u8, e.At);
    }

    private void WriteVoter(Utf8JsonWriter json, string voterId)
    {
        if (Voter(voterId) is { } voter)
        {
            json.WriteString("voter"u8, voter);
        }
    }

    private void Ballot(StringBuilder row, string type, string voteId, string? voterId, int[] optionIds, int[]? previous)
    {
        row.Append(type).Append(',').Append(voteId).Append(',');
        if (shown != VoterShown.Omitted)
        {
            row.Append(CsvField(Voter(voterId))).Append(',');
        }

        row.Append(string.Join(' ', optionIds)).Append(',');
        row.Append(previous is null ? string.Empty : string.Join(' ', previous)).Append(',');
        if (_scale && optionIds.Length == 1)
        {
            row.Append(poll.ValueOf(optionIds[0]).ToString(CultureInfo.InvariantCulture));
        }
    }

    private void WriteHead(Utf8JsonWriter json, PollEvent e, string voteId, string? voterId)
    {
        json.WriteNumber("seq"u8, e.Seq);
        json.WriteString("at"u8, e.At);
        json.WriteString("voteId"u8, voteId);
        if (shown != VoterShown.Omitted)
        {
            if (Voter(voterId) is { } voter)
            {
                json.WriteString("voter"u8, voter);
            }
            else
            {
                json.WriteNull("voter"u8);
            }
        }
    }

    private void WriteValue(Utf8JsonWriter json, int[] optionIds)
    {
        if (_scale && optionIds.Length == 1)
        {
            json.WriteNumber("value"u8, poll.ValueOf(optionIds[0]));
        }
    }

    private static void WriteIds(Utf8JsonWriter json, ReadOnlySpan<byte> name, int[] ids)
    {
        json.WriteStartArray(name);
        foreach (var id in ids)
        {
            json.WriteNumberValue(id);
        }

        json.WriteEndArray();
    }

    /// <summary>
    /// The voter as this export shows it: raw, or "h:" and 32 hex digits of HMAC-SHA256(key, pollId NUL voterId) — an event's id
    /// for an event and its questions, so a participant has one hash across them; null without one.
    /// </summary>
    private string? Voter(string? voterId)
    {
        if (voterId is null || shown == VoterShown.Omitted)
        {
            return null;
        }

        if (shown == VoterShown.Raw)
        {
            return voterId;
        }

        return HashVoter(key, poll, voterId);
    }

    /// <summary>The hashed form of a voter: exports and webhooks show one voter the same way.</summary>
    internal static string HashVoter(byte[] key, PollDefinition poll, string voterId)
    {
        var message = Encoding.UTF8.GetBytes((poll.EventId ?? poll.Id) + "\0" + voterId);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, message, mac);
        return "h:" + Convert.ToHexStringLower(mac[..16]);
    }

    private static string CsvField(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
