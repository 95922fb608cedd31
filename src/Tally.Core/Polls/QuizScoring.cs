namespace Tally.Polls;

/// <summary>
/// How a quiz answer scores, from the server's clock only: a correct answer <c>t</c> after the question was shown, with
/// time limit <c>T</c> and points <c>P</c>, scores <c>round(P × (1 − (t/T)/2))</c> — full points under half a second, half
/// the points at <c>T</c>, nothing after (the question is closed by then) — plus a streak bonus of
/// <see cref="EventSettings.StreakBonus"/> per correct answer in a row after the first (at most <see cref="MaxStreakSteps"/> steps).
/// A wrong answer scores 0 and ends the streak; so does a quiz question the participant did not answer.
/// </summary>
public static class QuizScoring
{
    /// <summary>Answers within this time of the question's showing score full points.</summary>
    public static readonly TimeSpan FullPointsWithin = TimeSpan.FromMilliseconds(500);

    /// <summary>The most streak steps that earn a bonus.</summary>
    public const int MaxStreakSteps = 5;

    /// <summary>The points of a correct answer given <paramref name="elapsed"/> after the showing; 0 after the time limit.</summary>
    public static int Points(int points, TimeSpan timeLimit, TimeSpan elapsed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(points);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeLimit, TimeSpan.Zero);
        if (elapsed < FullPointsWithin)
        {
            return points; // also a negative elapsed time: the clock the showing was stamped by is the one the answer was
        }

        if (elapsed > timeLimit)
        {
            return 0;
        }

        return (int)Math.Round(points * (1 - (elapsed.TotalMilliseconds / timeLimit.TotalMilliseconds / 2)), MidpointRounding.AwayFromZero);
    }

    /// <summary>The bonus of a correct answer that makes a streak of <paramref name="streak"/> correct answers in a row.</summary>
    public static int Bonus(int streakBonus, int streak) => streak < 2 ? 0 : streakBonus * Math.Min(streak - 1, MaxStreakSteps);
}
