namespace Tally.Polls;

/// <summary>The rules of quiz questions and of every question of an event, beside <see cref="PollRules.TryDefine"/>'s.</summary>
internal static class QuizRules
{
    public const int DefaultPoints = 1000;
    public const int MaxPoints = 10_000;
    public const int DefaultTimeLimitSeconds = 20;
    public const int MinTimeLimitSeconds = 5;
    public const int MaxTimeLimitSeconds = 600;

    /// <summary>The quiz settings of <paramref name="command"/> (null when it is not a quiz), with every wrong field added to <paramref name="errors"/>.</summary>
    public static QuizSettings? Check(CreatePoll command, int optionCount, Dictionary<string, string[]> errors)
    {
        if (command.Kind == PollKind.Event)
        {
            errors["kind"] = ["An event is made with POST /v1/events, not as a poll."];
            return null;
        }

        if (command.EventId is not null)
        {
            CheckQuestionOfEvent(command, errors);
        }

        if (command.Kind != PollKind.Quiz)
        {
            if (command.Correct is not null || command.Points is not null || command.TimeLimitSeconds is not null)
            {
                errors["correct"] = ["correct, points and timeLimitSeconds are for quiz questions (kind \"quiz\") only."];
            }

            return null;
        }

        if (command.EventId is null)
        {
            errors["kind"] = ["A quiz question belongs to an event (it scores on the event's leaderboard): make it a question of POST /v1/events."];
            return null;
        }

        if (command.Correct is not { Count: > 0 } correct)
        {
            errors["correct"] = ["A quiz question names its correct option ids (at least one) in correct."];
            return null;
        }

        var seen = new HashSet<int>();
        foreach (var id in correct)
        {
            if (id < 1 || id > optionCount)
            {
                errors["correct"] = [$"correct names option ids, 1 to {optionCount}; {id} is not one."];
                return null;
            }

            if (!seen.Add(id))
            {
                errors["correct"] = [$"Option {id} is named twice in correct."];
                return null;
            }
        }

        if (seen.Count == optionCount)
        {
            errors["correct"] = ["Every option is marked correct: a quiz question needs at least one wrong option."];
        }

        var points = command.Points ?? DefaultPoints;
        if (points is < 0 or > MaxPoints)
        {
            errors["points"] = [$"points is from 0 to {MaxPoints}."];
        }

        var seconds = command.TimeLimitSeconds ?? DefaultTimeLimitSeconds;
        if (seconds is < MinTimeLimitSeconds or > MaxTimeLimitSeconds)
        {
            errors["timeLimitSeconds"] = [$"timeLimitSeconds is from {MinTimeLimitSeconds} to {MaxTimeLimitSeconds}."];
        }

        if (command.AllowChange)
        {
            errors["allowChange"] = ["A quiz answer is final (it is scored as it arrives): allowChange must be false."];
        }

        return new QuizSettings([.. correct], points, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>An event's presenter opens and closes its questions, and only joined participants answer them.</summary>
    private static void CheckQuestionOfEvent(CreatePoll command, Dictionary<string, string[]> errors)
    {
        if (command.OpensAt is not null || command.ClosesAt is not null || command.Draft)
        {
            errors["opensAt"] = ["An event's question opens when the presenter shows it and closes when they lock it (or a quiz question's time is up): leave opensAt, closesAt and draft out."];
        }

        if (command.AllowReopen)
        {
            errors["allowReopen"] = ["An event's question is not reopened: leave allowReopen out."];
        }

        if (command.Dedupe != DedupePolicy.Voter)
        {
            errors["dedupe"] = ["An event's question counts one answer per participant: dedupe is \"voter\"."];
        }
    }
}
