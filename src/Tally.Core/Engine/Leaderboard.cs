using Tally.Events;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// An event's participants and their scores, ranked: a dictionary by voter and a sorted set ordered by score (highest
/// first), then by the seq of the event that brought the participant to that score (earliest first), then by voter id, so
/// ranks are total and the same on every replay. Joining and scoring are O(log n); the top N is read in O(N); the first
/// rank asked for after a change takes O(n) and makes every rank's table, so the next ones (every participant's own
/// standing at a reveal) are O(1) until the board changes again. Owned by the event's partition (no locks); <see cref="Unapply(PollEvent)"/> reverses the last event.
/// </summary>
internal sealed class Leaderboard
{
    private readonly Dictionary<string, Participant> _byVoter = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly SortedSet<Participant> _ranked = new(RankOrder.Instance);
    private readonly Stack<Standing> _before = new(); // what each ScoreAwarded replaced, for Unapply; cleared once durable
    private readonly HashSet<Participant> _changed = []; // joined or scored since TakeChanged
    private Dictionary<Participant, int>? _ranks; // every participant's rank, made by StandingOf; dropped by any change

    public int Count => _byVoter.Count;

    public bool Has(string voterId) => _byVoter.ContainsKey(voterId);

    public bool IsNameTaken(string name) => _names.Contains(name);

    /// <summary>The participant's current streak and the last round they answered correctly (0, 0 when they have none).</summary>
    public (int Streak, int LastCorrectRound) StreakOf(string voterId) =>
        _byVoter.TryGetValue(voterId, out var p) ? (p.Streak, p.LastCorrectRound) : (0, 0);

    public void Apply(PollEvent e)
    {
        _ranks = null;
        switch (e)
        {
            case ParticipantJoined j:
                var joined = new Participant(j.VoterId, j.Name) { ReachedSeq = j.Seq };
                _byVoter.Add(j.VoterId, joined);
                _names.Add(j.Name);
                _ranked.Add(joined);
                _changed.Add(joined);
                break;
            case ScoreAwarded a:
                var p = _byVoter[a.VoterId];
                _before.Push(new Standing(p.Score, p.ReachedSeq, p.Streak, p.LastCorrectRound, p.Correct, p.Answered));
                _ranked.Remove(p);
                if (a.Points + a.Bonus != 0)
                {
                    p.Score += a.Points + a.Bonus;
                    p.ReachedSeq = a.Seq;
                }

                p.Streak = a.Streak;
                p.Answered++;
                if (a.Correct)
                {
                    p.Correct++;
                    p.LastCorrectRound = a.Round;
                }

                _ranked.Add(p);
                _changed.Add(p);
                break;
        }
    }

    public void Unapply(PollEvent e)
    {
        _ranks = null;
        switch (e)
        {
            case ParticipantJoined j:
                _ranked.Remove(_byVoter[j.VoterId]);
                _changed.Remove(_byVoter[j.VoterId]);
                _byVoter.Remove(j.VoterId);
                _names.Remove(j.Name);
                break;
            case ScoreAwarded a:
                var p = _byVoter[a.VoterId];
                var was = _before.Pop();
                _ranked.Remove(p);
                (p.Score, p.ReachedSeq, p.Streak, p.LastCorrectRound, p.Correct, p.Answered) = (was.Score, was.ReachedSeq, was.Streak, was.LastCorrectRound, was.Correct, was.Answered);
                _ranked.Add(p);
                break;
        }
    }

    public void ForgetUndo() => _before.Clear();

    /// <summary>The participants who joined or scored since the last call (rank 0), and forgets them.</summary>
    public LeaderboardEntry[] TakeChanged()
    {
        if (_changed.Count == 0)
        {
            return [];
        }

        var changed = _changed.Select(p => p.ToEntry(0)).ToArray();
        _changed.Clear();
        return changed;
    }

    /// <summary>The first <paramref name="count"/> participants, leader first.</summary>
    public LeaderboardEntry[] Top(int count)
    {
        var top = new LeaderboardEntry[Math.Min(count, _ranked.Count)];
        var rank = 0;
        foreach (var p in _ranked)
        {
            if (rank == top.Length)
            {
                break;
            }

            top[rank] = p.ToEntry(++rank);
        }

        return top;
    }

    /// <summary>The participant's standing, or null when they have not joined. O(n) for the first after a change, then O(1).</summary>
    public LeaderboardEntry? StandingOf(string voterId)
    {
        if (!_byVoter.TryGetValue(voterId, out var me))
        {
            return null;
        }

        if (_ranks is null)
        {
            var ranks = new Dictionary<Participant, int>(_ranked.Count, ReferenceEqualityComparer.Instance);
            var rank = 0;
            foreach (var p in _ranked)
            {
                ranks.Add(p, ++rank);
            }

            _ranks = ranks;
        }

        return me.ToEntry(_ranks[me]);
    }

    /// <summary>Every participant, leader first (for verify and the Redis projection).</summary>
    public IEnumerable<LeaderboardEntry> All()
    {
        var rank = 0;
        foreach (var p in _ranked)
        {
            yield return p.ToEntry(++rank);
        }
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_byVoter.Count);
        foreach (var p in _byVoter.Values)
        {
            w.Write(p.VoterId);
            w.Write(p.Name);
            w.Write(p.Score);
            w.Write(p.ReachedSeq);
            w.Write(p.Streak);
            w.Write(p.LastCorrectRound);
            w.Write(p.Correct);
            w.Write(p.Answered);
        }
    }

    public void Read(BinaryReader r)
    {
        _ranks = null;
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var p = new Participant(r.ReadString(), r.ReadString())
            {
                Score = r.ReadInt64(),
                ReachedSeq = r.ReadInt64(),
                Streak = r.ReadInt32(),
                LastCorrectRound = r.ReadInt32(),
                Correct = r.ReadInt32(),
                Answered = r.ReadInt32(),
            };
            _byVoter.Add(p.VoterId, p);
            _names.Add(p.Name);
            _ranked.Add(p);
        }
    }

    private sealed class Participant(string voterId, string name)
    {
        public string VoterId { get; } = voterId;

        public string Name { get; } = name;

        public long Score { get; set; }

        public long ReachedSeq { get; set; }

        public int Streak { get; set; }

        public int LastCorrectRound { get; set; }

        public int Correct { get; set; }

        public int Answered { get; set; }

        public LeaderboardEntry ToEntry(int rank) => new(rank, VoterId, Name, Score, Streak, Correct, Answered, ReachedSeq);
    }

    private readonly record struct Standing(long Score, long ReachedSeq, int Streak, int LastCorrectRound, int Correct, int Answered);

    private sealed class RankOrder : IComparer<Participant>
    {
        public static readonly RankOrder Instance = new();

        public int Compare(Participant? x, Participant? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var byScore = y!.Score.CompareTo(x!.Score);
            if (byScore != 0)
            {
                return byScore;
            }

            var bySeq = x.ReachedSeq.CompareTo(y.ReachedSeq);
            return bySeq != 0 ? bySeq : string.CompareOrdinal(x.VoterId, y.VoterId);
        }
    }
}
