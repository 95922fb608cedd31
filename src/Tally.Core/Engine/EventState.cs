using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The event-only part of a <see cref="PollKind.Event"/> poll's state: which question is live, whether its results are
/// revealed, the quiz rounds played, and the <see cref="Leaderboard"/>. Applied and reversed with the poll's events.
/// </summary>
internal sealed class EventState(EventSettings settings)
{
    private readonly Stack<(int Current, DateTimeOffset? ShownAt, bool Revealed, int Round)> _before = new();

    public EventSettings Settings { get; } = settings;

    public int Current { get; private set; }

    public DateTimeOffset? ShownAt { get; private set; }

    public bool Revealed { get; private set; }

    public int Round { get; private set; }

    public Leaderboard Leaderboard { get; } = new();

    /// <summary>True for the events this part applies (the poll applies its status and seq).</summary>
    public static bool Handles(PollEvent e) => e is QuestionShown or ResultsRevealed or ParticipantJoined or ScoreAwarded;

    public void Apply(PollEvent e)
    {
        switch (e)
        {
            case QuestionShown q:
                _before.Push((Current, ShownAt, Revealed, Round));
                (Current, ShownAt, Revealed) = (q.Question, q.At, false);
                if (q.Round > 0)
                {
                    Round = q.Round;
                }

                break;
            case ResultsRevealed:
                _before.Push((Current, ShownAt, Revealed, Round));
                Revealed = true;
                break;
            default:
                Leaderboard.Apply(e);
                break;
        }
    }

    public void Unapply(PollEvent e)
    {
        if (e is QuestionShown or ResultsRevealed)
        {
            (Current, ShownAt, Revealed, Round) = _before.Pop();
            return;
        }

        Leaderboard.Unapply(e);
    }

    public void ForgetUndo()
    {
        _before.Clear();
        Leaderboard.ForgetUndo();
    }

    /// <summary>The view to publish; it takes the participants changed since the last one (<see cref="EventView.Changed"/>).</summary>
    public EventView ToView() => new(Current, ShownAt, Revealed, Round, Leaderboard.Count, Leaderboard.Top(Settings.LeaderboardSize), Leaderboard.TakeChanged());

    public void Write(BinaryWriter w)
    {
        w.Write(Current);
        w.Write(ShownAt?.ToUnixTimeMilliseconds() ?? long.MinValue);
        w.Write(Revealed);
        w.Write(Round);
        Leaderboard.Write(w);
    }

    public void Read(BinaryReader r)
    {
        Current = r.ReadInt32();
        var shownAt = r.ReadInt64();
        ShownAt = shownAt == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(shownAt);
        Revealed = r.ReadBoolean();
        Round = r.ReadInt32();
        Leaderboard.Read(r);
    }
}
