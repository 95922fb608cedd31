namespace Tally.Polls;

/// <summary>The invariants of polls and ballots. Pure functions: no state, no I/O.</summary>
public static class PollRules
{
    public const int MinOptions = 2;
    public const int MaxOptions = 50;
    public const int MaxQuestionLength = 500;
    public const int MaxOptionTextLength = 200;
    public const int MaxVoterIdLength = 128;
    public const int MaxIdempotencyKeyLength = 128;

    /// <summary>Validates <paramref name="command"/> and builds the definition, or says every field that is wrong.</summary>
    public static PollDefinition? TryDefine(CreatePoll command, string id, DateTimeOffset now, out Rejection? rejection)
    {
        ArgumentNullException.ThrowIfNull(command);
        var errors = new Dictionary<string, string[]>();
        var question = command.Question?.Trim();
        if (string.IsNullOrEmpty(question))
        {
            errors["question"] = ["The question is required and cannot be blank."];
        }
        else if (question.Length > MaxQuestionLength)
        {
            errors["question"] = [$"The question is at most {MaxQuestionLength} characters."];
        }

        var options = new List<PollOption>();
        if (command.Options is null)
        {
            errors["options"] = ["The options are required."];
        }
        else if (command.Options.Count < MinOptions || command.Options.Count > MaxOptions)
        {
            errors["options"] = [$"A poll has {MinOptions} to {MaxOptions} options; {command.Options.Count} were given."];
        }
        else
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < command.Options.Count; i++)
            {
                var text = command.Options[i]?.Trim();
                if (string.IsNullOrEmpty(text))
                {
                    errors[$"options[{i}]"] = ["An option's text is required and cannot be blank."];
                }
                else if (text.Length > MaxOptionTextLength)
                {
                    errors[$"options[{i}]"] = [$"An option's text is at most {MaxOptionTextLength} characters."];
                }
                else if (!seen.Add(text))
                {
                    errors[$"options[{i}]"] = [$"The option \"{text}\" is given twice."];
                }
                else
                {
                    options.Add(new PollOption(i + 1, text));
                }
            }
        }

        var maxChoices = 1;
        if (command.Kind == PollKind.Single)
        {
            if (command.MaxChoices is { } m && m != 1)
            {
                errors["maxChoices"] = ["A single-choice poll has maxChoices 1; use kind \"multiple\" for more."];
            }
        }
        else
        {
            var optionCount = command.Options?.Count ?? 0;
            maxChoices = command.MaxChoices ?? Math.Max(optionCount, 1);
            if (maxChoices < 1 || (optionCount >= MinOptions && maxChoices > optionCount))
            {
                errors["maxChoices"] = [$"maxChoices is from 1 to the number of options ({optionCount})."];
            }
        }

        if (command.ClosesAt is { } closesAt && closesAt <= now)
        {
            errors["closesAt"] = ["closesAt must be in the future."];
        }

        if (command.VoterIdentity == VoterIdentity.Invite && command.Dedupe != DedupePolicy.Voter)
        {
            errors["voterIdentity"] = ["An invite poll counts each code once: it needs dedupe \"voter\"."];
        }

        if (command.Results == ResultsVisibility.AfterVote && (command.Dedupe != DedupePolicy.Voter || command.VoterIdentity is not (VoterIdentity.Token or VoterIdentity.Anonymous)))
        {
            errors["resultsVisibility"] = ["\"afterVote\" shows results to whoever voted, so the reader must be known the way the voter was: it needs dedupe \"voter\" and voterIdentity \"token\" or \"anonymous\"."];
        }

        if (!Access.WorkspaceIds.IsValid(command.Workspace))
        {
            errors["workspace"] = ["The workspace id is not valid."];
        }

        if (errors.Count > 0)
        {
            rejection = new Rejection(RejectionKind.Invalid, "The poll is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
            return null;
        }

        rejection = null;
        return new PollDefinition(
            id, question!, command.Kind, maxChoices, options, now, command.ClosesAt, command.Dedupe, command.AllowChange,
            command.Workspace, command.VoterIdentity, command.Access, command.Results);
    }

    /// <summary>Checks a ballot against a poll's definition (not its state: closing and dedupe are decided by the partition).</summary>
    public static Rejection? CheckBallot(PollDefinition poll, CastVote vote)
    {
        ArgumentNullException.ThrowIfNull(poll);
        ArgumentNullException.ThrowIfNull(vote);
        var ids = vote.OptionIds;
        if (ids is null || ids.Length == 0)
        {
            return new Rejection(RejectionKind.Invalid, "optionIds must name at least one option.");
        }

        if (poll.Kind == PollKind.Single && ids.Length != 1)
        {
            return new Rejection(RejectionKind.Invalid, $"This poll takes exactly one option; {ids.Length} were given.");
        }

        if (ids.Length > poll.MaxChoices)
        {
            return new Rejection(RejectionKind.Invalid, $"This poll takes at most {poll.MaxChoices} options; {ids.Length} were given.");
        }

        for (var i = 0; i < ids.Length; i++)
        {
            if (!poll.HasOption(ids[i]))
            {
                return new Rejection(RejectionKind.UnknownOption, $"Option {ids[i]} is not an option of poll {poll.Id} (its options are 1 to {poll.Options.Count}).");
            }

            for (var j = 0; j < i; j++)
            {
                if (ids[j] == ids[i])
                {
                    return new Rejection(RejectionKind.Invalid, $"Option {ids[i]} is chosen twice.");
                }
            }
        }

        if (poll.Dedupe == DedupePolicy.Voter && string.IsNullOrWhiteSpace(vote.VoterId))
        {
            return new Rejection(RejectionKind.Invalid, "voterId is required: this poll counts one ballot per voter.");
        }

        if (vote.VoterId is { Length: > MaxVoterIdLength })
        {
            return new Rejection(RejectionKind.Invalid, $"voterId is at most {MaxVoterIdLength} characters.");
        }

        if (vote.IdempotencyKey is { } key && (key.Length == 0 || key.Length > MaxIdempotencyKeyLength))
        {
            return new Rejection(RejectionKind.Invalid, $"An idempotency key is 1 to {MaxIdempotencyKeyLength} characters.");
        }

        return null;
    }
}
