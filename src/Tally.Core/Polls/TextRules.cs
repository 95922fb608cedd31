namespace Tally.Polls;

/// <summary>The rules of text polls and their answers, beside <see cref="PollRules"/>.</summary>
public static class TextRules
{
    public const int DefaultMaxLength = 140;
    public const int MaxMaxLength = 500;

    /// <summary>Most answers a moderated poll holds at once; past it, answers are refused until some are moderated.</summary>
    public const int MaxHeld = 10_000;

    /// <summary>The text settings of <paramref name="command"/> (null when it is not a text poll), with every wrong field added to <paramref name="errors"/>.</summary>
    internal static TextSettings? Check(CreatePoll command, Dictionary<string, string[]> errors)
    {
        if (command.Kind != PollKind.Text)
        {
            if (command.Kind == PollKind.Questions)
            {
                if (command.Language is not null)
                {
                    errors["language"] = ["language is for text polls (kind \"text\") only."];
                }
            }
            else if (command.MaxLength is not null || command.Language is not null || command.Moderation)
            {
                errors["maxLength"] = ["maxLength and moderation are for text and Q&A polls (kinds \"text\", \"questions\") only, language for text polls."];
            }

            return null;
        }

        var maxLength = command.MaxLength ?? DefaultMaxLength;
        if (maxLength is < 1 or > MaxMaxLength)
        {
            errors["maxLength"] = [$"maxLength is from 1 to {MaxMaxLength}."];
        }

        var language = command.Language ?? "en";
        if (!StopWords.IsKnown(language))
        {
            errors["language"] = [$"language is one of {string.Join(", ", StopWords.Languages.Select(l => $"\"{l}\""))}."];
        }

        if (command.AllowChange)
        {
            errors["allowChange"] = ["A text answer is final (its terms are counted as it arrives): allowChange must be false."];
        }

        return new TextSettings(maxLength, language, command.Moderation);
    }

    /// <summary>
    /// The answer to keep (trimmed) and its terms, or null with the sentence: text is required (and nothing else), at most the
    /// poll's <see cref="TextSettings.MaxLength"/>, without control or invisible format characters; terms sent by the host are bounded.
    /// </summary>
    public static Rejection? CheckAnswer(PollDefinition poll, CastVote vote, out string? text, out string[]? terms)
    {
        ArgumentNullException.ThrowIfNull(poll);
        ArgumentNullException.ThrowIfNull(vote);
        text = vote.Text?.Trim();
        terms = null;
        if (poll.Text is not { } settings)
        {
            return vote.Text is null || poll.Kind == PollKind.Questions ? null : new Rejection(RejectionKind.Invalid, "text is for text polls; this poll takes optionIds.");
        }

        if (vote.OptionIds.Length > 0)
        {
            return new Rejection(RejectionKind.Invalid, "A text poll takes text, not optionIds.");
        }

        if (string.IsNullOrEmpty(text))
        {
            return new Rejection(RejectionKind.Invalid, "text is required: the answer, not blank.");
        }

        if (text.Length > settings.MaxLength)
        {
            return new Rejection(RejectionKind.Invalid, $"An answer to poll {poll.Id} is at most {settings.MaxLength} characters; this one has {text.Length}.");
        }

        if (PollRules.CheckTextCharacters(text, "text") is { } unusable)
        {
            return new Rejection(RejectionKind.Invalid, unusable);
        }

        terms = vote.Terms ?? TextTerms.Of(text, settings.Language);
        if (terms.Length > TextTerms.MaxTermsPerAnswer || terms.Any(t => t.Length is < TextTerms.MinTermLength or > TextTerms.MaxTermLength))
        {
            return new Rejection(RejectionKind.Invalid, "The answer's terms are out of bounds.");
        }

        return null;
    }
}
