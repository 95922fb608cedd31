namespace Tally.Polls;

/// <summary>The rules of Q&amp;A polls (<see cref="PollKind.Questions"/>) and their ballots, beside <see cref="PollRules"/>.</summary>
public static class QuestionRules
{
    public const int DefaultMaxLength = 280;
    public const int MaxMaxLength = 1000;
    public const int DefaultMaxQuestionsPerVoter = 5;
    public const int MaxMaxQuestionsPerVoter = 100;

    /// <summary>
    /// Most questions one poll keeps (every one asked: shown, held, rejected, erased); past it, new questions are refused
    /// (<see cref="RejectionKind.QuestionsFull"/>) while upvotes go on. It bounds the poll's memory with its questions' length.
    /// </summary>
    public const int MaxQuestions = 10_000;

    /// <summary>How many questions the results and live messages carry, the most upvoted first.</summary>
    public const int TopQuestions = 100;

    /// <summary>The Q&amp;A settings of <paramref name="command"/> (null when it is not a Q&amp;A poll), with every wrong field added to <paramref name="errors"/>.</summary>
    internal static QuestionSettings? Check(CreatePoll command, Dictionary<string, string[]> errors)
    {
        if (command.Kind != PollKind.Questions)
        {
            if (command.MaxQuestionsPerVoter is not null)
            {
                errors["maxQuestionsPerVoter"] = ["maxQuestionsPerVoter is for Q&A polls (kind \"questions\") only."];
            }

            return null;
        }

        var maxLength = command.MaxLength ?? DefaultMaxLength;
        if (maxLength is < 1 or > MaxMaxLength)
        {
            errors["maxLength"] = [$"A question's maxLength is from 1 to {MaxMaxLength}."];
        }

        var perVoter = command.MaxQuestionsPerVoter ?? DefaultMaxQuestionsPerVoter;
        if (perVoter is < 1 or > MaxMaxQuestionsPerVoter)
        {
            errors["maxQuestionsPerVoter"] = [$"maxQuestionsPerVoter is from 1 to {MaxMaxQuestionsPerVoter}."];
        }

        if (command.Dedupe != DedupePolicy.Voter)
        {
            errors["dedupe"] = ["A Q&A poll counts one upvote per voter per question: it needs dedupe \"voter\"."];
        }

        if (command.AllowChange)
        {
            errors["allowChange"] = ["A question and an upvote are final: allowChange must be false."];
        }

        return new QuestionSettings(maxLength, command.Moderation, perVoter);
    }

    /// <summary>
    /// Null when <paramref name="vote"/> is a question (<c>text</c>, kept trimmed in <paramref name="text"/>: 1 to the poll's
    /// <see cref="QuestionSettings.MaxLength"/>, without control or invisible format characters) or an upvote (<c>upvote</c>, the seq
    /// of a question's vote id), exactly one of the two and nothing else; otherwise the refusal. On another kind an upvote is refused.
    /// </summary>
    public static Rejection? CheckBallot(PollDefinition poll, CastVote vote, out string? text)
    {
        ArgumentNullException.ThrowIfNull(poll);
        ArgumentNullException.ThrowIfNull(vote);
        text = null;
        if (poll.Questions is not { } settings)
        {
            return vote.Upvote is null ? null : new Rejection(RejectionKind.Invalid, "upvote is for Q&A polls (kind \"questions\").");
        }

        if (vote.OptionIds.Length > 0)
        {
            return new Rejection(RejectionKind.Invalid, "A Q&A poll takes text (a new question) or upvote (a question's vote id), not optionIds.");
        }

        if (vote.Upvote is { } upvote)
        {
            return vote.Text is not null ? new Rejection(RejectionKind.Invalid, "Give text (a new question) or upvote (a question's vote id), not both.")
                : upvote < 2 ? new Rejection(RejectionKind.Invalid, $"upvote is the vote id of one of poll {poll.Id}'s questions ({poll.Id}-<seq>).")
                : null;
        }

        text = vote.Text?.Trim();
        if (vote.Text is null)
        {
            return new Rejection(RejectionKind.Invalid, "text (a new question) or upvote (the vote id of a question) is required.");
        }

        if (string.IsNullOrEmpty(text))
        {
            return new Rejection(RejectionKind.Invalid, "text is required: the question, not blank.");
        }

        if (text.Length > settings.MaxLength)
        {
            return new Rejection(RejectionKind.Invalid, $"A question on poll {poll.Id} is at most {settings.MaxLength} characters; this one has {text.Length}.");
        }

        return PollRules.CheckTextCharacters(text, "text") is { } unusable ? new Rejection(RejectionKind.Invalid, unusable) : null;
    }
}
