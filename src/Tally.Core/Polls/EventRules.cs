using System.Globalization;

namespace Tally.Polls;

/// <summary>The invariants of events, their questions, join codes and participants' names. Pure functions, like <see cref="PollRules"/>.</summary>
public static class EventRules
{
    public const int MaxQuestions = 100;
    public const int MaxTitleLength = 200;
    public const int MaxStreakBonus = 1000;
    public const int DefaultLeaderboardSize = 10;
    public const int MaxLeaderboardSize = 100;
    public const int MaxNameLength = 40;

    /// <summary>The most participants one leaderboard query answers.</summary>
    public const int MaxLeaderboardQuery = 1000;

    /// <summary>The answer for an id that names no event (no poll, or a poll that is not an event); the id is clipped.</summary>
    public static Rejection UnknownEvent(string eventId) => new(RejectionKind.UnknownPoll, $"There is no event {PollRules.Clip(eventId)}.");

    /// <summary>
    /// The alphabet of join codes: capital letters and digits without those read as one another (0 O, 1 I L), so a code
    /// read off a projector is typed right. <see cref="JoinCodeLength"/> of them make 31^7 ≈ 2.8 × 10^10 codes.
    /// </summary>
    public const string JoinCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

    public const int JoinCodeLength = 7;

    /// <summary>Whether <paramref name="code"/> has the shape of a join code (after <see cref="NormalizeJoinCode"/>).</summary>
    public static bool IsJoinCode(string? code)
    {
        if (code is null || code.Length != JoinCodeLength)
        {
            return false;
        }

        foreach (var c in code)
        {
            if (!JoinCodeAlphabet.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A code as typed: upper-cased, with spaces and dashes dropped; null when it is too long to be one.</summary>
    public static string? NormalizeJoinCode(string? input)
    {
        if (input is null || input.Length > 2 * JoinCodeLength)
        {
            return null;
        }

        return string.Concat(input.Where(c => c is not (' ' or '-'))).ToUpperInvariant();
    }

    /// <summary>
    /// Validates <paramref name="command"/> and builds the definitions: the event's first, then its questions', whose ids are
    /// <see cref="EventIds.QuestionId"/>. Every wrong field is said, a question's as <c>questions[i].field</c>.
    /// </summary>
    public static IReadOnlyList<PollDefinition>? TryDefine(CreateEvent command, string eventId, DateTimeOffset now, out Rejection? rejection)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(eventId);
        var errors = new Dictionary<string, string[]>();
        var title = command.Title?.Trim();
        if (string.IsNullOrEmpty(title))
        {
            errors["title"] = ["The title is required and cannot be blank."];
        }
        else if (title.Length > MaxTitleLength)
        {
            errors["title"] = [$"The title is at most {MaxTitleLength} characters."];
        }

        if (command.Questions is not { Count: > 0 and <= MaxQuestions } questions)
        {
            errors["questions"] = [$"An event has 1 to {MaxQuestions} questions."];
            questions = [];
        }

        if (command.Passcode is { } passcode && (passcode.Length < Passcodes.MinLength || passcode.Length > Passcodes.MaxLength || passcode.Trim() != passcode))
        {
            errors["passcode"] = [$"A passcode is {Passcodes.MinLength} to {Passcodes.MaxLength} characters, without white space at either end."];
        }

        if (command.StreakBonus is < 0 or > MaxStreakBonus)
        {
            errors["streakBonus"] = [$"streakBonus is from 0 to {MaxStreakBonus}."];
        }

        if (command.LeaderboardSize is < 1 or > MaxLeaderboardSize)
        {
            errors["leaderboardSize"] = [$"leaderboardSize is from 1 to {MaxLeaderboardSize}."];
        }

        if (command.VoterIdentity == VoterIdentity.Invite)
        {
            errors["voterIdentity"] = ["An event's participants join by its code: voterIdentity is \"anonymous\", \"token\" or \"client\", not \"invite\"."];
        }

        if (!IsJoinCode(command.JoinCode))
        {
            throw new ArgumentException("The join code is drawn by the server and must have the shape of one.", nameof(command));
        }

        var definitions = new List<PollDefinition>(questions.Count + 1) { null! };
        for (var i = 0; i < questions.Count; i++)
        {
            if (questions[i] is not { } question)
            {
                errors[$"questions[{i}]"] = ["A question is required."];
                continue;
            }

            var asked = question with
            {
                Workspace = command.Workspace,
                VoterIdentity = command.VoterIdentity,
                Access = command.Access,
                EventId = eventId,
            };
            var definition = PollRules.TryDefine(asked, EventIds.QuestionId(eventId, i + 1), now, out var wrong);
            if (wrong?.Errors is { } fields)
            {
                foreach (var (field, messages) in fields)
                {
                    errors[$"questions[{i}].{field}"] = messages;
                }
            }
            else if (definition is not null)
            {
                definitions.Add(definition);
            }
        }

        if (errors.Count > 0)
        {
            rejection = new Rejection(RejectionKind.Invalid, "The event is not valid: " + string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")), errors);
            return null;
        }

        var (salt, hash) = command.Passcode is { } code ? Passcodes.Hash(code) : (null, null);
        var settings = new EventSettings(command.JoinCode, salt, hash, command.StreakBonus ?? 0, command.LeaderboardSize ?? DefaultLeaderboardSize);
        var options = definitions.Skip(1).Select((q, i) => new PollOption(i + 1, q.Question)).ToArray();
        definitions[0] = new PollDefinition(
            eventId, title!, PollKind.Event, 1, options, now, null, DedupePolicy.Voter, false, command.Workspace, command.VoterIdentity,
            command.Access, ResultsVisibility.Live, StartsAsDraft: true, Event: settings);
        rejection = null;
        return definitions;
    }

    /// <summary>The name rule of a participant: 1 to <see cref="MaxNameLength"/> characters after trimming, with the refusals of a voterId; the trimmed name, or null with the sentence.</summary>
    public static string? CheckName(string? name, out string? trimmed)
    {
        trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return "name is required: what the leaderboard calls you.";
        }

        if (trimmed.Length > MaxNameLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"name is at most {MaxNameLength} characters.");
        }

        return PollRules.CheckVoterId(trimmed, out trimmed) is { } bad ? bad.Replace("voterId", "name", StringComparison.Ordinal) : null;
    }
}
