using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The most frequent terms of a text poll, in bounded memory: the Space-Saving summary (Metwally, Agrawal and El Abbadi,
/// 2005) of at most <see cref="Capacity"/> counters. A term already counted adds one; a new term takes a free counter, or
/// when none is free takes over the smallest one (its count plus one, that count recorded as its possible error). So
/// memory stays at <see cref="Capacity"/> counters under a million answers of any vocabulary; every term used by more
/// than N / <see cref="Capacity"/> answers is in the summary, and a count overstates the truth by at most its error (at
/// most N / <see cref="Capacity"/>). Deterministic: the same answers in the same order give the same summary, so replay
/// and <c>verify</c> agree with the live one. <see cref="Unapply"/> reverses the last change exactly (a failed batch).
/// </summary>
internal sealed class TermSummary(int capacity = TermSummary.DefaultCapacity)
{
    public const int DefaultCapacity = 1024;

    private readonly Dictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly SortedSet<Counter> _bySize = new(Smallest.Instance);
    private readonly Stack<Change> _undo = new();

    public int Capacity { get; } = capacity;

    public int Count => _counters.Count;

    /// <summary>Counts one answer that used each of <paramref name="terms"/> (distinct).</summary>
    public void Add(IReadOnlyList<string> terms)
    {
        foreach (var term in terms)
        {
            if (_counters.TryGetValue(term, out var counter))
            {
                Resize(counter, counter.Count + 1);
                _undo.Push(new Change(Step.Incremented, term));
            }
            else if (_counters.Count < Capacity)
            {
                Insert(new Counter(term, 1, 0));
                _undo.Push(new Change(Step.Inserted, term));
            }
            else
            {
                var smallest = _bySize.Min!;
                Evict(smallest);
                Insert(new Counter(term, smallest.Count + 1, smallest.Count));
                _undo.Push(new Change(Step.Replaced, term, smallest.Term, smallest.Count, smallest.Error));
            }
        }

        _undo.Push(new Change(Step.Answer, null, Steps: terms.Count));
    }

    /// <summary>Takes one answer's terms out (an erased answer): each counted term loses one; a term the summary forgot is skipped.</summary>
    public void Remove(IReadOnlyList<string> terms)
    {
        var steps = 0;
        foreach (var term in terms)
        {
            if (!_counters.TryGetValue(term, out var counter))
            {
                continue;
            }

            steps++;
            if (counter.Count - 1 <= counter.Error)
            {
                Evict(counter); // nothing is left that is surely this term's
                _undo.Push(new Change(Step.Dropped, term, term, counter.Count, counter.Error));
            }
            else
            {
                Resize(counter, counter.Count - 1);
                _undo.Push(new Change(Step.Decremented, term));
            }
        }

        _undo.Push(new Change(Step.Answer, null, Steps: steps));
    }

    /// <summary>Takes back the last <see cref="Add"/> or <see cref="Remove"/>, exactly (their changes newest first).</summary>
    public void Unapply()
    {
        var answer = _undo.Pop();
        for (var i = 0; i < answer.Steps; i++)
        {
            var change = _undo.Pop();
            switch (change.Step)
            {
                case Step.Incremented:
                    Resize(_counters[change.Term!], _counters[change.Term!].Count - 1);
                    break;
                case Step.Inserted:
                    Evict(_counters[change.Term!]);
                    break;
                case Step.Replaced:
                    Evict(_counters[change.Term!]);
                    Insert(new Counter(change.Other!, change.Count, change.Error));
                    break;
                case Step.Decremented:
                    Resize(_counters[change.Term!], _counters[change.Term!].Count + 1);
                    break;
                case Step.Dropped:
                    Insert(new Counter(change.Other!, change.Count, change.Error));
                    break;
            }
        }
    }

    public void ForgetUndo() => _undo.Clear();

    /// <summary>The <paramref name="k"/> largest counts, largest first (equal counts by term, ordinal).</summary>
    public TermCount[] Top(int k) =>
        [.. _counters.Values.OrderByDescending(c => c.Count).ThenBy(c => c.Term, StringComparer.Ordinal).Take(k).Select(c => new TermCount(c.Term, c.Count, c.Error))];

    public void Write(BinaryWriter w)
    {
        w.Write(_counters.Count);
        foreach (var c in _counters.Values.OrderBy(c => c.Term, StringComparer.Ordinal))
        {
            w.Write(c.Term);
            w.Write(c.Count);
            w.Write(c.Error);
        }
    }

    public void Read(BinaryReader r)
    {
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            Insert(new Counter(r.ReadString(), r.ReadInt64(), r.ReadInt64()));
        }
    }

    private void Insert(Counter counter)
    {
        _counters.Add(counter.Term, counter);
        _bySize.Add(counter);
    }

    private void Evict(Counter counter)
    {
        _counters.Remove(counter.Term);
        _bySize.Remove(counter);
    }

    private void Resize(Counter counter, long count)
    {
        _bySize.Remove(counter);
        counter.Count = count;
        _bySize.Add(counter);
    }

    private sealed class Counter(string term, long count, long error)
    {
        public string Term { get; } = term;

        public long Count { get; set; } = count;

        public long Error { get; } = error;
    }

    private enum Step
    {
        Answer,
        Incremented,
        Inserted,
        Replaced,
        Decremented,
        Dropped,
    }

    /// <summary>One step of an answer's change (<paramref name="Other"/>, <paramref name="Count"/>, <paramref name="Error"/>: the counter it replaced or dropped); an <see cref="Step.Answer"/> closes an answer's <paramref name="Steps"/> steps.</summary>
    private readonly record struct Change(Step Step, string? Term, string? Other = null, long Count = 0, long Error = 0, int Steps = 0);

    private sealed class Smallest : IComparer<Counter>
    {
        public static readonly Smallest Instance = new();

        public int Compare(Counter? x, Counter? y)
        {
            var byCount = x!.Count.CompareTo(y!.Count);
            return byCount != 0 ? byCount : string.CompareOrdinal(x.Term, y.Term);
        }
    }
}
