using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The Q&amp;A part of a <see cref="PollKind.Questions"/> poll's state: every question asked (at most
/// <see cref="QuestionRules.MaxQuestions"/>), the shown ones ranked by upvotes (the oldest first among equals), and on the write
/// side each voter's questions and upvotes (one per question), which dedupe upvotes, bound a voter's questions and name what an
/// erasure takes out. Applied and reversed with the poll's events, so a failed append leaves it exactly as it was.
/// Memory: one record per question (its text at most <see cref="QuestionRules.MaxMaxLength"/> characters) and one entry per
/// upvote, as other kinds keep one ballot per voter.
/// </summary>
internal sealed class QuestionState
{
    private readonly Dictionary<long, Question> _questions = [];
    private readonly SortedSet<Question> _shown = new(Ranking.Instance);
    private readonly Dictionary<string, VoterRecord>? _voters; // null on a counts-only projection, which decides nothing
    private readonly Stack<(string Voter, VoterRecord Record)> _erased = new(); // what erasures took out, for Unapply
    private int _held;

    public QuestionState(bool countsOnly)
    {
        if (!countsOnly)
        {
            _voters = new Dictionary<string, VoterRecord>(StringComparer.Ordinal);
        }
    }

    private enum Status : byte
    {
        Shown = 0,
        Held = 1,
        Rejected = 2,
    }

    /// <summary>Questions kept: every one asked, whatever became of it.</summary>
    public int Count => _questions.Count;

    public int HeldCount => _held;

    public bool HasVoter(string voterId) => _voters?.ContainsKey(voterId) == true;

    public bool IsHeld(long seq) => _questions.TryGetValue(seq, out var q) && q.Status == Status.Held && !q.Erased;

    /// <summary>The held questions, oldest first, at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<HeldAnswer> Held(int limit) =>
        [.. _questions.Values.Where(q => q.Status == Status.Held && !q.Erased).OrderBy(q => q.Seq).Take(limit).Select(q => new HeldAnswer(q.Seq, q.Text, q.At, []))];

    public QuestionResults ToResults() =>
        new(_shown.Count, _held, [.. _shown.Take(QuestionRules.TopQuestions).Select(q => new QuestionItem(q.Seq, q.Text, q.Votes, q.Answered, q.At))]);

    /// <summary>
    /// The event a ballot makes (a question asked, or an upvote), not applied yet, or why not: an upvote of a question that is
    /// not shown, a second upvote, a voter past their questions, a poll past its questions.
    /// </summary>
    public PollEvent? Decide(PollDefinition poll, CastVote vote, long seq, DateTimeOffset now, out Rejection? rejection)
    {
        var voter = vote.VoterId!; // a Q&A poll dedupes by voter: PollRules.CheckBallot required one
        var record = _voters!.GetValueOrDefault(voter);
        rejection = null;
        if (vote.Upvote is { } target)
        {
            var id = VoteIds.Format(poll.Id, target);
            rejection = !_questions.TryGetValue(target, out var question) || question.Erased
                ? new Rejection(RejectionKind.Invalid, $"Poll {poll.Id} has no question {id} to upvote.")
                : question.Status == Status.Held ? new Rejection(RejectionKind.Invalid, $"Question {id} waits for moderation: it takes upvotes once approved.")
                : question.Status == Status.Rejected ? new Rejection(RejectionKind.Invalid, $"Question {id} was rejected by a moderator: it takes no upvotes.")
                : record is not null && record.Upvoted.TryGetValue(target, out var first)
                    ? new Rejection(RejectionKind.AlreadyVoted, $"Voter \"{PollRules.Clip(voter)}\" has already upvoted question {id} (vote {VoteIds.Format(poll.Id, first)}).")
                : null;
            return rejection is null ? new QuestionUpvoted(poll.Id, seq, now, voter, target, vote.IdempotencyKey) : null;
        }

        var settings = poll.Questions!;
        if (record is not null && record.Asked.Count >= settings.MaxQuestionsPerVoter)
        {
            rejection = new Rejection(RejectionKind.QuestionLimit, $"Voter \"{PollRules.Clip(voter)}\" has asked {record.Asked.Count} questions on poll {poll.Id}, as many as it lets one voter ask.");
            return null;
        }

        if (_questions.Count >= QuestionRules.MaxQuestions)
        {
            rejection = new Rejection(RejectionKind.QuestionsFull, $"Poll {poll.Id} has {QuestionRules.MaxQuestions:N0} questions, as many as a poll keeps; its questions still take upvotes.");
            return null;
        }

        return new QuestionAsked(poll.Id, seq, now, voter, vote.Text!, settings.Moderated, vote.IdempotencyKey);
    }

    /// <summary>Whether the question at <paramref name="seq"/> is shown (asked or approved, not erased), so a presenter may mark it answered.</summary>
    public bool IsShown(long seq, out bool answered)
    {
        answered = false;
        if (!_questions.TryGetValue(seq, out var q) || q.Erased || q.Status != Status.Shown)
        {
            return false;
        }

        answered = q.Answered;
        return true;
    }

    /// <summary>The erasure of <paramref name="voterId"/>'s questions and upvotes, not applied yet; null when they have none.</summary>
    public QuestionsErased? ErasureOf(string pollId, string voterId, long seq, DateTimeOffset now)
    {
        if (_voters is null || !_voters.TryGetValue(voterId, out var record))
        {
            return null;
        }

        var upvotes = record.Upvoted.OrderBy(u => u.Value).ToArray();
        return new QuestionsErased(pollId, seq, now, [.. record.Asked], [.. upvotes.Select(u => u.Value)], [.. upvotes.Select(u => u.Key)]);
    }

    public void Apply(PollEvent e)
    {
        switch (e)
        {
            case QuestionAsked a:
                var asked = new Question(a.Seq, a.Text, a.At, a.VoterId) { Status = a.Held ? Status.Held : Status.Shown };
                _questions.Add(a.Seq, asked);
                Show(asked, +1);
                RecordOf(a.VoterId)?.Asked.Add(a.Seq);
                break;
            case QuestionUpvoted u:
                Bump(_questions[u.QuestionSeq], +1);
                RecordOf(u.VoterId)?.Upvoted.Add(u.QuestionSeq, u.Seq);
                break;
            case QuestionAnswered x:
                _questions[x.QuestionSeq].Answered = true;
                break;
            case AnswerModerated m:
                var held = _questions[m.AnswerSeq];
                Show(held, -1);
                held.Status = m.Approved ? Status.Shown : Status.Rejected;
                Show(held, +1);
                break;
            case QuestionsErased gone:
                foreach (var s in gone.Asked)
                {
                    var q = _questions[s];
                    Show(q, -1);
                    q.Erased = true;
                }

                foreach (var s in gone.UpvotedQuestions)
                {
                    Bump(_questions[s], -1);
                }

                if (_voters is not null && VoterOf(gone) is { } voter)
                {
                    _erased.Push((voter, _voters[voter]));
                    _voters.Remove(voter);
                }

                break;
        }
    }

    /// <summary>Reverses <paramref name="e"/>, the last event applied.</summary>
    public void Unapply(PollEvent e)
    {
        switch (e)
        {
            case QuestionAsked a:
                Show(_questions[a.Seq], -1);
                _questions.Remove(a.Seq);
                if (RecordOf(a.VoterId, create: false) is { } asker)
                {
                    asker.Asked.RemoveAt(asker.Asked.Count - 1);
                    ForgetIfEmpty(a.VoterId, asker);
                }

                break;
            case QuestionUpvoted u:
                Bump(_questions[u.QuestionSeq], -1);
                if (RecordOf(u.VoterId, create: false) is { } upvoter)
                {
                    upvoter.Upvoted.Remove(u.QuestionSeq);
                    ForgetIfEmpty(u.VoterId, upvoter);
                }

                break;
            case QuestionAnswered x:
                _questions[x.QuestionSeq].Answered = false;
                break;
            case AnswerModerated m:
                var moderated = _questions[m.AnswerSeq];
                Show(moderated, -1);
                moderated.Status = Status.Held;
                Show(moderated, +1);
                break;
            case QuestionsErased gone:
                foreach (var s in gone.UpvotedQuestions)
                {
                    Bump(_questions[s], +1);
                }

                foreach (var s in gone.Asked)
                {
                    var q = _questions[s];
                    q.Erased = false;
                    Show(q, +1);
                }

                if (_voters is not null && _erased.TryPop(out var erased))
                {
                    _voters[erased.Voter] = erased.Record;
                }

                break;
        }
    }

    public void ForgetUndo() => _erased.Clear();

    /// <summary>The form <see cref="Read"/> takes (snapshot form 7); an erased question's text is not written.</summary>
    public void Write(BinaryWriter w)
    {
        w.Write(_questions.Count);
        foreach (var q in _questions.Values.OrderBy(q => q.Seq))
        {
            w.Write(q.Seq);
            w.Write(q.Erased ? string.Empty : q.Text);
            w.Write(q.At.ToUnixTimeMilliseconds());
            w.Write(q.Asker);
            w.Write(q.Votes);
            w.Write((byte)q.Status);
            w.Write(q.Answered);
            w.Write(q.Erased);
        }

        w.Write(_voters?.Count ?? 0);
        foreach (var (voter, record) in (_voters ?? []).OrderBy(v => v.Key, StringComparer.Ordinal)) // in order: a state writes the same bytes however it got there
        {
            w.Write(voter);
            w.Write(record.Asked.Count);
            foreach (var s in record.Asked)
            {
                w.Write(s);
            }

            w.Write(record.Upvoted.Count);
            foreach (var (question, upvote) in record.Upvoted.OrderBy(u => u.Key))
            {
                w.Write(question);
                w.Write(upvote);
            }
        }
    }

    public void Read(BinaryReader r)
    {
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var q = new Question(r.ReadInt64(), r.ReadString(), DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64()), r.ReadString())
            {
                Votes = r.ReadInt64(),
                Status = (Status)r.ReadByte(),
                Answered = r.ReadBoolean(),
                Erased = r.ReadBoolean(),
            };
            _questions.Add(q.Seq, q);
            Show(q, +1);
        }

        var voters = r.ReadInt32();
        for (var i = 0; i < voters; i++)
        {
            var record = RecordOf(r.ReadString()) ?? new VoterRecord();
            var asked = r.ReadInt32();
            for (var k = 0; k < asked; k++)
            {
                record.Asked.Add(r.ReadInt64());
            }

            var upvoted = r.ReadInt32();
            for (var k = 0; k < upvoted; k++)
            {
                record.Upvoted.Add(r.ReadInt64(), r.ReadInt64());
            }
        }
    }

    /// <summary>Adds a question to (+1) or takes it out of (-1) what the results count: the shown ones, ranked, or the held ones.</summary>
    private void Show(Question q, int delta)
    {
        if (q.Erased)
        {
            return;
        }

        if (q.Status == Status.Held)
        {
            _held += delta;
        }
        else if (q.Status == Status.Shown)
        {
            _ = delta > 0 ? _shown.Add(q) : _shown.Remove(q);
        }
    }

    /// <summary>Moves a question's upvotes; a ranked question leaves the ranking first (its place depends on them) and comes back.</summary>
    private void Bump(Question q, int delta)
    {
        var ranked = !q.Erased && q.Status == Status.Shown && _shown.Remove(q);
        q.Votes += delta;
        if (ranked)
        {
            _shown.Add(q);
        }
    }

    private VoterRecord? RecordOf(string voter, bool create = true)
    {
        if (_voters is null)
        {
            return null;
        }

        if (!_voters.TryGetValue(voter, out var record) && create)
        {
            record = new VoterRecord();
            _voters.Add(voter, record);
        }

        return record;
    }

    private void ForgetIfEmpty(string voter, VoterRecord record)
    {
        if (record.Asked.Count == 0 && record.Upvoted.Count == 0)
        {
            _voters!.Remove(voter);
        }
    }

    /// <summary>Whose erasure <paramref name="gone"/> is: the asker of its first question, or the voter whose upvote its first upvote is.</summary>
    private string? VoterOf(QuestionsErased gone)
    {
        if (gone.Asked.Length > 0)
        {
            return _questions[gone.Asked[0]].Asker;
        }

        foreach (var (voter, record) in _voters!)
        {
            if (gone.Upvotes.Length > 0 && record.Upvoted.TryGetValue(gone.UpvotedQuestions[0], out var s) && s == gone.Upvotes[0])
            {
                return voter;
            }
        }

        return null;
    }

    private sealed class Question(long seq, string text, DateTimeOffset at, string asker)
    {
        public long Seq { get; } = seq;

        public string Text { get; } = text;

        public DateTimeOffset At { get; } = at;

        public string Asker { get; } = asker;

        public long Votes { get; set; }

        public Status Status { get; set; }

        public bool Answered { get; set; }

        public bool Erased { get; set; }
    }

    /// <summary>A voter's questions (their seqs, oldest first) and upvotes (question seq → the upvote's seq).</summary>
    private sealed class VoterRecord
    {
        public List<long> Asked { get; } = [];

        public Dictionary<long, long> Upvoted { get; } = [];
    }

    /// <summary>The most upvoted first; among equals the oldest (the lower seq) first. Seqs are unique, so no two questions tie.</summary>
    private sealed class Ranking : IComparer<Question>
    {
        public static readonly Ranking Instance = new();

        public int Compare(Question? x, Question? y) => x!.Votes != y!.Votes ? y.Votes.CompareTo(x.Votes) : x.Seq.CompareTo(y.Seq);
    }
}
