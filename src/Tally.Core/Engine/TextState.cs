using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The text-only part of a <see cref="PollKind.Text"/> poll's state: the answers counted, the held ones (a moderated poll's,
/// at most <see cref="TextRules.MaxHeld"/>), and the <see cref="TermSummary"/> of the counted answers' terms. Applied and
/// reversed with the poll's events. An erased answer leaves the count it was in: the answers counted, the held ones, or
/// (a rejected one) none; the terms it added stay in the summary, an aggregate that names nobody, as a summary cannot
/// tell one answer's share of a term.
/// </summary>
internal sealed class TextState
{
    /// <summary>How many terms the results and live messages carry.</summary>
    public const int TopTerms = 50;

    private readonly SortedDictionary<long, HeldAnswer> _held = [];
    private readonly HashSet<long> _rejected = []; // the rejected answers' seqs: erasing one takes it out of no count
    private readonly Stack<Undo> _undo = new(); // what a moderation or an erasure took out, for Unapply

    public TermSummary Summary { get; } = new();

    public long Answers { get; private set; }

    public int HeldCount => _held.Count;

    public static bool Handles(PollEvent e) => e is TextAnswered or AnswerModerated;

    public bool IsHeld(long answerSeq) => _held.ContainsKey(answerSeq);

    public IReadOnlyList<HeldAnswer> Held(int limit) => [.. _held.Values.Take(limit)];

    public void Apply(PollEvent e)
    {
        switch (e)
        {
            case TextAnswered t when t.Held:
                _held.Add(t.Seq, new HeldAnswer(t.Seq, t.Text, t.At, t.Terms));
                break;
            case TextAnswered t:
                Summary.Add(t.Terms);
                Answers++;
                break;
            case AnswerModerated m:
                var held = _held[m.AnswerSeq];
                _held.Remove(m.AnswerSeq);
                _undo.Push(new Undo(held));
                if (m.Approved)
                {
                    Summary.Add(held.Terms);
                    Answers++;
                }
                else
                {
                    _rejected.Add(m.AnswerSeq);
                }

                break;
        }
    }

    public void Unapply(PollEvent e)
    {
        switch (e)
        {
            case TextAnswered t when t.Held:
                _held.Remove(t.Seq);
                break;
            case TextAnswered:
                Summary.Unapply();
                Answers--;
                break;
            case AnswerModerated m:
                var held = _undo.Pop().Held!;
                _held.Add(m.AnswerSeq, held);
                if (m.Approved)
                {
                    Summary.Unapply();
                    Answers--;
                }
                else
                {
                    _rejected.Remove(m.AnswerSeq);
                }

                break;
        }
    }

    /// <summary>An erased answer: out of the held ones, out of the rejected ones (in no count), or out of the count of answers.</summary>
    public void Erase(long answerSeq)
    {
        if (_held.Remove(answerSeq, out var held))
        {
            _undo.Push(new Undo(held));
            return;
        }

        if (_rejected.Remove(answerSeq))
        {
            _undo.Push(new Undo(null, Rejected: true));
            return;
        }

        Answers--;
        _undo.Push(new Undo(null));
    }

    public void Unerase(long answerSeq)
    {
        var undo = _undo.Pop();
        if (undo.Held is { } held)
        {
            _held.Add(answerSeq, held);
        }
        else if (undo.Rejected)
        {
            _rejected.Add(answerSeq);
        }
        else
        {
            Answers++;
        }
    }

    public void ForgetUndo()
    {
        _undo.Clear();
        Summary.ForgetUndo();
    }

    public TextResults ToResults() => new(Answers, _held.Count, Summary.Top(TopTerms), Summary.Capacity);

    public void Write(BinaryWriter w)
    {
        w.Write(Answers);
        Summary.Write(w);
        w.Write(_held.Count);
        foreach (var held in _held.Values)
        {
            w.Write(held.Seq);
            w.Write(held.Text);
            w.Write(held.At.ToUnixTimeMilliseconds());
            w.Write(held.Terms.Count);
            foreach (var term in held.Terms)
            {
                w.Write(term);
            }
        }

        w.Write(_rejected.Count);
        foreach (var seq in _rejected.Order())
        {
            w.Write(seq);
        }
    }

    /// <summary>Reads the form <see cref="Write"/> makes; snapshots before version 6 hold no rejected answers.</summary>
    public void Read(BinaryReader r, int snapshotVersion)
    {
        Answers = r.ReadInt64();
        Summary.Read(r);
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var seq = r.ReadInt64();
            var text = r.ReadString();
            var at = DateTimeOffset.FromUnixTimeMilliseconds(r.ReadInt64());
            var terms = new string[r.ReadInt32()];
            for (var k = 0; k < terms.Length; k++)
            {
                terms[k] = r.ReadString();
            }

            _held.Add(seq, new HeldAnswer(seq, text, at, terms));
        }

        var rejected = snapshotVersion >= 6 ? r.ReadInt32() : 0;
        for (var i = 0; i < rejected; i++)
        {
            _rejected.Add(r.ReadInt64());
        }
    }

    /// <summary>What a moderation or an erasure took out: a held answer, or (none) a rejected one or one of the counted answers.</summary>
    private readonly record struct Undo(HeldAnswer? Held, bool Rejected = false);
}
