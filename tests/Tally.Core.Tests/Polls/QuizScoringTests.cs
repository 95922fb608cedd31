using Tally.Polls;

namespace Tally.Core.Tests.Polls;

/// <summary>Quiz points by speed, round(P × (1 − (t/T)/2)), full under half a second, and the streak bonus.</summary>
public sealed class QuizScoringTests
{
    private static readonly TimeSpan T = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(0, 1000)] // t = 0
    [InlineData(499, 1000)] // under half a second: full points
    [InlineData(500, 988)] // 1000 × (1 − 0.025/2) = 987.5, rounded away from zero
    [InlineData(10_000, 750)] // t = T/2
    [InlineData(19_999, 500)] // 500.025
    [InlineData(20_000, 500)] // t = T: half the points
    [InlineData(20_001, 0)] // after T: nothing (the question is closed by then)
    [InlineData(-5, 1000)] // a clock stamped the same way cannot go backwards, but if it did: full points
    public void A_correct_answer_scores_by_how_soon_it_came(int milliseconds, int expected) =>
        Assert.Equal(expected, QuizScoring.Points(1000, T, TimeSpan.FromMilliseconds(milliseconds)));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)] // the first correct answer is no streak yet
    [InlineData(2, 100)]
    [InlineData(3, 200)]
    [InlineData(6, 500)]
    [InlineData(40, 500)] // at most five steps
    public void A_streak_adds_a_step_per_correct_answer_in_a_row_after_the_first(int streak, int expected) =>
        Assert.Equal(expected, QuizScoring.Bonus(100, streak));

    [Fact]
    public void Zero_points_score_zero_and_bad_arguments_throw()
    {
        Assert.Equal(0, QuizScoring.Points(0, T, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuizScoring.Points(-1, T, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuizScoring.Points(1000, TimeSpan.Zero, TimeSpan.Zero));
    }
}
