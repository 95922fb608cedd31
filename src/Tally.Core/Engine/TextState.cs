using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The text-only part of a <see cref="PollKind.Text"/> poll's state: the answers counted, the held ones (a moderated poll's,
/// at most <see cref="TextRules.MaxHeld"/>), and the <see cref="TermSummary"/> of the counted answers' terms. Applied and
/// reversed with the poll's events. An erased answer leaves the count of answers (and the held ones); the terms it added
/// stay in the summary, an aggregate that names nobody, as a summary cannot tell one answer's share of a term.
/// </summary>
internal sealed class TextState
{
    /// <summary>How many terms the results and live messages carry.</summary>
    public const int TopTerms = 50;

    private readonly SortedDictionary<long, HeldAnswer> _held = [];
    private readonly Stack<HeldAnswer?> _undo = new(); // what a moderation or an erasure took out of _held, for Unapply

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
                _undo.Push(held);
                if (m.Approved)
                {
                    Summary.Add(held.Terms);
                    Answers++;
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
                var held = _undo.Pop()!;
                _held.Add(m.AnswerSeq, held);
                if (m.Approved)
                {
                    Summary.Unapply();
                    Answers--;
                }

                break;
        }
    }

    /// <summary>An erased answer: out of the held ones, or out of the count of answers.</summary>
    public void Erase(long answerSeq)
    {
        if (_held.Remove(answerSeq, out var held))
        {
            _undo.Push(held);
            return;
        }

        Answers--;
        _undo.Push(null);
    }

    public void Unerase(long answerSeq)
    {
        if (_undo.Pop() is { } held)
        {
            _held.Add(answerSeq, held);
            return;
        }

        Answers++;
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
    }

    public void Read(BinaryReader r)
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
    }
}
