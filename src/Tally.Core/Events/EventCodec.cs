using System.Text;
using Tally.Polls;

namespace Tally.Events;

/// <summary>
/// The binary form of events in a durable log: one format byte, one type byte, then the fields.
/// Self-contained (the poll id and seq are inside), so an adapter may store it as one blob.
/// </summary>
public static class EventCodec
{
    /// <summary>
    /// The version this build writes. 2 added the poll's workspace, voter identity, access and results visibility
    /// to <see cref="PollCreated"/>; version 1 events read with the defaults (the default workspace, <c>client</c>
    /// voter ids, public, live results), which is what those polls were. 3 added the scale's lowest value (rating and nps
    /// polls); earlier events read with 0, unused by the kinds they could hold. 4 added the poll's schedule (opensAt, whether
    /// it starts as a draft, maxBallots) and the events PollOpened, PollPaused and PollResumed; earlier definitions read as
    /// polls that opened at once without a ballot limit. BallotErased (type 8), PollReopened (type 9) and the definition's allowReopen came with the same version.
    /// 5 added quiz questions and events (the definition's quiz settings, event id and event settings) and the events
    /// QuestionShown, ResultsRevealed, ParticipantJoined and ScoreAwarded (types 10 to 13), and text polls (the definition's text
    /// settings; TextAnswered and AnswerModerated, types 14 and 15); earlier definitions read without them.
    /// 6 added Q&amp;A polls: the definition's question settings, and QuestionAsked, QuestionUpvoted, QuestionAnswered and
    /// QuestionsErased (types 16 to 19); earlier definitions read without them.
    /// </summary>
    private const byte FormatVersion = 6;

    [ThreadStatic]
    private static BinaryWriter? t_writer;

    /// <summary>The type code stored beside the blob (handy for queries); the same as byte 1 of the blob.</summary>
    public static byte TypeOf(PollEvent e) => e switch
    {
        PollCreated => 1,
        PollClosed => 2,
        VoteCast => 3,
        VoteChanged => 4,
        PollOpened => 5,
        PollPaused => 6,
        PollResumed => 7,
        BallotErased => 8,
        PollReopened => 9,
        QuestionShown => 10,
        ResultsRevealed => 11,
        ParticipantJoined => 12,
        ScoreAwarded => 13,
        TextAnswered => 14,
        AnswerModerated => 15,
        QuestionAsked => 16,
        QuestionUpvoted => 17,
        QuestionAnswered => 18,
        QuestionsErased => 19,
        _ => throw new ArgumentException($"Unknown event type {e.GetType().Name}.", nameof(e)),
    };

    public static byte[] Encode(PollEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var w = t_writer ??= new BinaryWriter(new MemoryStream(256), Encoding.UTF8, leaveOpen: false);
        var stream = (MemoryStream)w.BaseStream;
        stream.SetLength(0);
        Write(w, e);
        w.Flush();
        return stream.ToArray();
    }

    public static void Write(BinaryWriter w, PollEvent e)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.Write(FormatVersion);
        w.Write(TypeOf(e));
        w.Write(e.PollId);
        w.Write(e.Seq);
        w.Write(e.At.ToUnixTimeMilliseconds());
        switch (e)
        {
            case PollCreated c:
                WriteDefinition(w, c.Definition, FormatVersion);
                break;
            case PollClosed c:
                w.Write((byte)c.Reason);
                break;
            case PollOpened o:
                w.Write((byte)o.Reason);
                break;
            case PollPaused or PollResumed or PollReopened:
                break;
            case BallotErased b:
                w.Write(b.BallotSeq);
                WriteIds(w, b.OptionIds);
                break;
            case QuestionShown q:
                w.Write(q.Question);
                w.Write(q.Round);
                break;
            case ResultsRevealed r:
                w.Write(r.Question);
                break;
            case ParticipantJoined j:
                w.Write(j.VoterId);
                w.Write(j.Name);
                break;
            case ScoreAwarded a:
                w.Write(a.VoterId);
                w.Write(a.Question);
                w.Write(a.Round);
                w.Write(a.AnswerSeq);
                w.Write(a.Correct);
                w.Write(a.Points);
                w.Write(a.Bonus);
                w.Write(a.Streak);
                break;
            case TextAnswered t:
                WriteNullable(w, t.VoterId);
                w.Write(t.Text);
                w.Write((byte)t.Terms.Length);
                foreach (var term in t.Terms)
                {
                    w.Write(term);
                }

                w.Write(t.Held);
                WriteNullable(w, t.IdempotencyKey);
                break;
            case AnswerModerated m:
                w.Write(m.AnswerSeq);
                w.Write(m.Approved);
                break;
            case QuestionAsked a:
                w.Write(a.VoterId);
                w.Write(a.Text);
                w.Write(a.Held);
                WriteNullable(w, a.IdempotencyKey);
                break;
            case QuestionUpvoted u:
                w.Write(u.VoterId);
                w.Write(u.QuestionSeq);
                WriteNullable(w, u.IdempotencyKey);
                break;
            case QuestionAnswered x:
                w.Write(x.QuestionSeq);
                break;
            case QuestionsErased q:
                WriteSeqs(w, q.Asked);
                WriteSeqs(w, q.Upvotes);
                WriteSeqs(w, q.UpvotedQuestions);
                break;
            case VoteCast v:
                WriteNullable(w, v.VoterId);
                WriteIds(w, v.OptionIds);
                WriteNullable(w, v.IdempotencyKey);
                break;
            case VoteChanged v:
                w.Write(v.VoterId);
                WriteIds(w, v.OptionIds);
                WriteIds(w, v.PreviousOptionIds);
                w.Write(v.BallotSeq);
                WriteNullable(w, v.IdempotencyKey);
                break;
        }
    }

    public static PollEvent Decode(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var r = new BinaryReader(new MemoryStream(data, writable: false), Encoding.UTF8);
        return Read(r);
    }

    public static PollEvent Read(BinaryReader r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var version = r.ReadByte();
        if (version is < 1 or > FormatVersion)
        {
            throw new InvalidDataException($"Event format {version} is not known (this build reads {FormatVersion}).");
        }

        var type = r.ReadByte();
        var pollId = r.ReadString();
        var seq = r.ReadInt64();
        var at = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64());
        return type switch
        {
            1 => new PollCreated(ReadDefinition(r, version)),
            2 => new PollClosed(pollId, seq, at, (CloseReason)r.ReadByte()),
            3 => new VoteCast(pollId, seq, at, ReadNullable(r), ReadIds(r), ReadNullable(r)),
            4 => new VoteChanged(pollId, seq, at, r.ReadString(), ReadIds(r), ReadIds(r), r.ReadInt64(), ReadNullable(r)),
            5 => new PollOpened(pollId, seq, at, (OpenReason)r.ReadByte()),
            6 => new PollPaused(pollId, seq, at),
            7 => new PollResumed(pollId, seq, at),
            8 => new BallotErased(pollId, seq, at, r.ReadInt64(), ReadIds(r)),
            9 => new PollReopened(pollId, seq, at),
            10 => new QuestionShown(pollId, seq, at, r.ReadInt32(), r.ReadInt32()),
            11 => new ResultsRevealed(pollId, seq, at, r.ReadInt32()),
            12 => new ParticipantJoined(pollId, seq, at, r.ReadString(), r.ReadString()),
            14 => new TextAnswered(pollId, seq, at, ReadNullable(r), r.ReadString(), ReadTerms(r), r.ReadBoolean(), ReadNullable(r)),
            15 => new AnswerModerated(pollId, seq, at, r.ReadInt64(), r.ReadBoolean()),
            16 => new QuestionAsked(pollId, seq, at, r.ReadString(), r.ReadString(), r.ReadBoolean(), ReadNullable(r)),
            17 => new QuestionUpvoted(pollId, seq, at, r.ReadString(), r.ReadInt64(), ReadNullable(r)),
            18 => new QuestionAnswered(pollId, seq, at, r.ReadInt64()),
            19 => new QuestionsErased(pollId, seq, at, ReadSeqs(r), ReadSeqs(r), ReadSeqs(r)),
            13 => new ScoreAwarded(pollId, seq, at, r.ReadString(), r.ReadInt32(), r.ReadInt32(), r.ReadInt64(), r.ReadBoolean(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32()),
            _ => throw new InvalidDataException($"Event type {type} is not known."),
        };
    }

    /// <summary>The definition in form <paramref name="version"/> (1: without the access fields; 2: with them; 3: and the scale's min; 4: and the schedule; 5: and quiz, event and text settings; 6: and Q&amp;A settings).</summary>
    internal static void WriteDefinition(BinaryWriter w, PollDefinition d, int version)
    {
        w.Write(d.Id);
        w.Write(d.Question);
        w.Write((byte)d.Kind);
        w.Write(d.MaxChoices);
        w.Write(d.Options.Count);
        foreach (var o in d.Options)
        {
            w.Write(o.Text);
        }

        w.Write(d.CreatedAt.ToUnixTimeMilliseconds());
        w.Write(d.ClosesAt.HasValue);
        if (d.ClosesAt is { } closesAt)
        {
            w.Write(closesAt.ToUnixTimeMilliseconds());
        }

        w.Write((byte)d.Dedupe);
        w.Write(d.AllowChange);
        if (version >= 2)
        {
            w.Write(d.Workspace);
            w.Write((byte)d.VoterIdentity);
            w.Write((byte)d.Access);
            w.Write((byte)d.Results);
        }

        if (version >= 3)
        {
            w.Write(d.ScaleMin);
        }

        if (version >= 4)
        {
            w.Write(d.OpensAt?.ToUnixTimeMilliseconds() ?? long.MinValue);
            w.Write(d.StartsAsDraft);
            w.Write(d.MaxBallots ?? 0);
            w.Write(d.AllowReopen);
        }

        if (version >= 5)
        {
            w.Write(d.Quiz is not null);
            if (d.Quiz is { } quiz)
            {
                WriteIds(w, [.. quiz.Correct]);
                w.Write(quiz.Points);
                w.Write((long)quiz.TimeLimit.TotalMilliseconds);
            }

            WriteNullable(w, d.EventId);
            w.Write(d.Event is not null);
            if (d.Event is { } e)
            {
                w.Write(e.JoinCode);
                WriteBytes(w, e.PasscodeSalt);
                WriteBytes(w, e.PasscodeHash);
                w.Write(e.StreakBonus);
                w.Write(e.LeaderboardSize);
            }

            w.Write(d.Text is not null);
            if (d.Text is { } text)
            {
                w.Write(text.MaxLength);
                w.Write(text.Language);
                w.Write(text.Moderated);
            }
        }

        if (version >= 6)
        {
            w.Write(d.Questions is not null);
            if (d.Questions is { } questions)
            {
                w.Write(questions.MaxLength);
                w.Write(questions.Moderated);
                w.Write(questions.MaxQuestionsPerVoter);
            }
        }
    }

    private static void WriteSeqs(BinaryWriter w, long[] seqs)
    {
        w.Write(seqs.Length);
        foreach (var s in seqs)
        {
            w.Write(s);
        }
    }

    private static long[] ReadSeqs(BinaryReader r)
    {
        var seqs = new long[r.ReadInt32()];
        for (var i = 0; i < seqs.Length; i++)
        {
            seqs[i] = r.ReadInt64();
        }

        return seqs;
    }

    private static void WriteBytes(BinaryWriter w, byte[]? bytes)
    {
        w.Write(bytes?.Length ?? -1);
        if (bytes is not null)
        {
            w.Write(bytes);
        }
    }

    private static string[] ReadTerms(BinaryReader r)
    {
        var terms = new string[r.ReadByte()];
        for (var i = 0; i < terms.Length; i++)
        {
            terms[i] = r.ReadString();
        }

        return terms;
    }

    private static byte[]? ReadBytes(BinaryReader r) => r.ReadInt32() is var n and >= 0 ? r.ReadBytes(n) : null;

    internal static PollDefinition ReadDefinition(BinaryReader r, int version)
    {
        var id = r.ReadString();
        var question = r.ReadString();
        var kind = (PollKind)r.ReadByte();
        var maxChoices = r.ReadInt32();
        var count = r.ReadInt32();
        var options = new PollOption[count];
        for (var i = 0; i < count; i++)
        {
            options[i] = new PollOption(i + 1, r.ReadString());
        }

        var createdAt = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64());
        DateTimeOffset? closesAt = r.ReadBoolean() ? DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64()) : null;
        var dedupe = (DedupePolicy)r.ReadByte();
        var allowChange = r.ReadBoolean();
        if (version < 2)
        {
            return new PollDefinition(id, question, kind, maxChoices, options, createdAt, closesAt, dedupe, allowChange);
        }

        var workspace = r.ReadString();
        var identity = (VoterIdentity)r.ReadByte();
        var access = (PollAccess)r.ReadByte();
        var results = (ResultsVisibility)r.ReadByte();
        var scaleMin = version >= 3 ? r.ReadInt32() : 0;
        if (version < 4)
        {
            return new PollDefinition(id, question, kind, maxChoices, options, createdAt, closesAt, dedupe, allowChange, workspace, identity, access, results, scaleMin);
        }

        var opensAt = r.ReadInt64();
        var draft = r.ReadBoolean();
        var maxBallots = r.ReadInt64();
        var allowReopen = r.ReadBoolean();
        QuizSettings? quiz = null;
        string? eventId = null;
        EventSettings? settings = null;
        TextSettings? text = null;
        QuestionSettings? questions = null;
        if (version >= 5)
        {
            if (r.ReadBoolean())
            {
                quiz = new QuizSettings(ReadIds(r), r.ReadInt32(), TimeSpan.FromMilliseconds(r.ReadInt64()));
            }

            eventId = ReadNullable(r);
            if (r.ReadBoolean())
            {
                settings = new EventSettings(r.ReadString(), ReadBytes(r), ReadBytes(r), r.ReadInt32(), r.ReadInt32());
            }

            if (r.ReadBoolean())
            {
                text = new TextSettings(r.ReadInt32(), r.ReadString(), r.ReadBoolean());
            }
        }

        if (version >= 6 && r.ReadBoolean())
        {
            questions = new QuestionSettings(r.ReadInt32(), r.ReadBoolean(), r.ReadInt32());
        }

        return new PollDefinition(
            id, question, kind, maxChoices, options, createdAt, closesAt, dedupe, allowChange, workspace, identity, access, results, scaleMin,
            opensAt == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(opensAt), draft, maxBallots == 0 ? null : maxBallots, allowReopen,
            quiz, eventId, settings, text, questions);
    }

    internal static void WriteIds(BinaryWriter w, int[] ids)
    {
        w.Write((byte)ids.Length);
        foreach (var id in ids)
        {
            w.Write((byte)id);
        }
    }

    internal static int[] ReadIds(BinaryReader r)
    {
        var ids = new int[r.ReadByte()];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = r.ReadByte();
        }

        return ids;
    }

    internal static void WriteNullable(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null)
        {
            w.Write(s);
        }
    }

    internal static string? ReadNullable(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}
