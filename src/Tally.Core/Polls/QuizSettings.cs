namespace Tally.Polls;

/// <summary>What makes a <see cref="PollKind.Quiz"/> question: its correct options, the points of a correct answer, and its time limit.</summary>
/// <param name="Correct">The ids of the options that are correct (at least one; any of them scores).</param>
/// <param name="Points">P: what a correct answer within the first half second scores (<see cref="QuizScoring"/>).</param>
/// <param name="TimeLimit">T: how long the question takes answers once it is shown; it closes by itself then.</param>
public sealed record QuizSettings(IReadOnlyList<int> Correct, int Points, TimeSpan TimeLimit)
{
    public bool IsCorrect(int optionId)
    {
        foreach (var id in Correct)
        {
            if (id == optionId)
            {
                return true;
            }
        }

        return false;
    }
}
