using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Tally.Polls;

/// <summary>
/// The invariants of polls and ballots, and the bounds on every id a client sends. Pure functions: no
/// state, no I/O. Every transport checks a poll id with <see cref="CheckPollId"/> before it looks the id
/// up, echoes it or logs it; the engine checks the rest of a ballot with <see cref="CheckBallot(PollDefinition, CastVote, out CastVote)"/>.
/// </summary>
public static class PollRules
{
    public const int MinOptions = 2;
    public const int MaxOptions = 50;
    public const int MaxQuestionLength = 500;
    public const int MaxOptionTextLength = 200;

    /// <summary>The lowest and highest value a <c>rating</c> scale may have.</summary>
    public const int MinScaleValue = -100;

    public const int MaxScaleValue = 100;

    /// <summary>The largest <c>maxBallots</c> a poll may set.</summary>
    public const long MaxBallotLimit = 1_000_000_000;

    /// <summary>Most values on a <c>rating</c> scale (0–100, a percentage slider, is 101).</summary>
    public const int MaxScalePoints = 101;

    /// <summary>
    /// Longest poll id: a poll id is 1 to 64 ASCII letters and digits. The ids the server makes are 10
    /// lowercase letters and digits; the room above that is for ids made by another version.
    /// </summary>
    public const int MaxPollIdLength = 64;

    /// <summary>Longest voterId, in UTF-16 code units, before and after normalisation.</summary>
    public const int MaxVoterIdLength = 128;

    /// <summary>Longest idempotency key (<c>Idempotency-Key</c>, <c>idempotencyKey</c>, <c>idempotency_key</c>), in UTF-16 code units.</summary>
    public const int MaxIdempotencyKeyLength = 128;

    /// <summary>Most characters of client input an error message or a log line repeats (<see cref="Clip"/>).</summary>
    public const int MaxEchoLength = 40;

    /// <summary>
    /// Throws unless the runtime normalises Unicode: .NET's <see cref="string.Normalize(NormalizationForm)"/> is ICU's, and
    /// in invariant globalization mode (<c>DOTNET_SYSTEM_GLOBALIZATION_INVARIANT</c>) it silently does nothing, which would
    /// let the composed and decomposed spellings of one voterId count as two voters. Engines call it when they are made.
    /// </summary>
    public static void EnsureNormalization()
    {
        if (!NormalizationWorks)
        {
            throw new InvalidOperationException(
                "Unicode normalization is not available (the runtime is in invariant globalization mode), so voter ids cannot be normalised. Run with ICU (Debian: libicu) and without DOTNET_SYSTEM_GLOBALIZATION_INVARIANT.");
        }
    }

    private static readonly bool NormalizationWorks = "e\u0301".Normalize(NormalizationForm.FormC) == "\u00e9";

    /// <summary>Whether <paramref name="pollId"/> has the shape of a poll id: 1 to <see cref="MaxPollIdLength"/> ASCII letters and digits.</summary>
    public static bool IsPollId([NotNullWhen(true)] string? pollId)
    {
        if (pollId is null || pollId.Length is 0 or > MaxPollIdLength)
        {
            return false;
        }

        foreach (var c in pollId)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Null when <paramref name="pollId"/> has the shape of a poll id; otherwise the answer for it: no such
    /// poll (a string of another shape names no poll), with the id clipped. Call it at a transport's entry,
    /// before the id is looked up, echoed or logged.
    /// </summary>
    public static Rejection? CheckPollId(string? pollId) => IsPollId(pollId) ? null : UnknownPoll(pollId ?? string.Empty);

    /// <summary>The answer for a poll id nobody created; the id is clipped (<see cref="Clip"/>).</summary>
    public static Rejection UnknownPoll(string pollId) => new(RejectionKind.UnknownPoll, $"There is no poll {Clip(pollId)}.");

    /// <summary>
    /// At most <see cref="MaxEchoLength"/> characters of client input, for an error message or a log line;
    /// a longer value is cut (never inside a surrogate pair) and ends with "…".
    /// </summary>
    public static string Clip(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length <= MaxEchoLength)
        {
            return value;
        }

        var cut = char.IsHighSurrogate(value[MaxEchoLength - 1]) ? MaxEchoLength - 1 : MaxEchoLength;
        return string.Concat(value.AsSpan(0, cut), "…");
    }

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
        var scaleMin = 0;
        var points = command.Kind.IsScale() ? CheckScale(command, errors, out scaleMin) : 0;
        if (command.Kind.IsScale() && command.Options is null)
        {
            for (var i = 0; i < points; i++)
            {
                options.Add(new PollOption(i + 1, (scaleMin + i).ToString(CultureInfo.InvariantCulture)));
            }
        }
        else if (command.Kind == PollKind.Nps)
        {
            errors["options"] = ["An nps poll's options are the values 0 to 10; leave options out."];
        }
        else if (command.Kind is PollKind.Text or PollKind.Questions)
        {
            if (command.Options is not null)
            {
                errors["options"] = [command.Kind == PollKind.Text ? "A text poll's answers are free text; leave options out." : "A Q&A poll's questions come from its audience; leave options out."];
            }
        }
        else if (command.Options is null)
        {
            errors["options"] = ["The options are required."];
        }
        else if (command.Kind.IsScale() && points > 0 && command.Options.Count != points)
        {
            errors["options"] = [$"A rating poll's options, when given, are the labels of its {points} values; {command.Options.Count} were given."];
        }
        else if (!command.Kind.IsScale() && (command.Options.Count < MinOptions || command.Options.Count > MaxOptions))
        {
            errors["options"] = [$"A poll has {MinOptions} to {MaxOptions} options; {command.Options.Count} were given."];
        }
        else if (command.Kind.IsScale() && points == 0)
        {
            // The scale is wrong (said under scaleMin/scaleMax): the labels cannot be matched to it.
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
        if (command.Kind.IsOneChoice() || command.Kind is PollKind.Text or PollKind.Questions)
        {
            if (command.MaxChoices is { } m && m != 1)
            {
                errors["maxChoices"] = [command.Kind == PollKind.Single
                    ? "A single-choice poll has maxChoices 1; use kind \"multiple\" for more."
                    : command.Kind == PollKind.Quiz ? "A quiz answer is one option: maxChoices is 1."
                    : command.Kind == PollKind.Text ? "A text poll takes one answer per ballot: leave maxChoices out."
                    : command.Kind == PollKind.Questions ? "A Q&A ballot is one question or one upvote: leave maxChoices out."
                    : "A rating or nps ballot is one value: maxChoices is 1."];
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

        if (command.OpensAt is { } opensAt && opensAt <= now)
        {
            errors["opensAt"] = ["opensAt must be in the future (leave it out to open at once, or make a draft)."];
        }
        else if (command.OpensAt is { } opens && command.ClosesAt is { } closes && closes <= opens)
        {
            errors["closesAt"] = ["closesAt must be after opensAt."];
        }

        if (command.MaxBallots is { } max && (max < 1 || max > MaxBallotLimit))
        {
            errors["maxBallots"] = [$"maxBallots is from 1 to {MaxBallotLimit.ToString("N0", CultureInfo.InvariantCulture)}."];
        }

        if (!command.Kind.IsScale() && (command.ScaleMin is not null || command.ScaleMax is not null))
        {
            errors["scale"] = ["A scale is for rating polls only."];
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

        var quiz = QuizRules.Check(command, options.Count, errors);
        var textSettings = TextRules.Check(command, errors);
        var questionSettings = QuestionRules.Check(command, errors);
        if (errors.Count > 0)
        {
            rejection = new Rejection(RejectionKind.Invalid, "The poll is not valid: " + string.Join(" ", errors.Values.SelectMany(v => v)), errors);
            return null;
        }

        rejection = null;
        return new PollDefinition(
            id, question!, command.Kind, maxChoices, options, now, command.ClosesAt, command.Dedupe, command.AllowChange,
            command.Workspace, command.VoterIdentity, command.Access, command.Results, scaleMin,
            command.OpensAt?.AddTicks(-(command.OpensAt.Value.UtcTicks % TimeSpan.TicksPerMillisecond)), // the log keeps milliseconds
            command.Draft || command.OpensAt is not null || command.EventId is not null, command.MaxBallots, command.AllowReopen,
            quiz, command.EventId, Text: textSettings, Questions: questionSettings);
    }

    /// <summary>
    /// The number of values of a scale kind's scale (0 when it is wrong, with the errors added), and its lowest value.
    /// A <c>rating</c> scale is <see cref="MinScaleValue"/> to <see cref="MaxScaleValue"/> with 2 to <see cref="MaxScalePoints"/>
    /// values (default: min 1, max min + 4, so 1–5); an <c>nps</c> scale is always 0–10. Other kinds take no scale.
    /// </summary>
    private static int CheckScale(CreatePoll command, Dictionary<string, string[]> errors, out int min)
    {
        if (command.Kind == PollKind.Nps)
        {
            min = 0;
            if (command.ScaleMin is not (null or 0) || command.ScaleMax is not (null or 10))
            {
                errors["scale"] = ["An nps poll's scale is 0 to 10; leave scale out or give 0 and 10."];
                return 0;
            }

            return 11;
        }

        min = command.ScaleMin ?? 1;
        var max = command.ScaleMax ?? min + 4;
        if (min is < MinScaleValue or > MaxScaleValue || max is < MinScaleValue or > MaxScaleValue)
        {
            errors["scale"] = [$"A rating scale's values are from {MinScaleValue} to {MaxScaleValue}."];
            return 0;
        }

        if (max <= min || max - min + 1 > MaxScalePoints)
        {
            errors["scale"] = [$"A rating scale has a max above its min and 2 to {MaxScalePoints} values; {min} to {max} was given."];
            return 0;
        }

        return max - min + 1;
    }

    /// <summary>
    /// The option ids a ballot names: <paramref name="optionIds"/> as sent, or on a scale kind the option of
    /// <paramref name="value"/>. Null with <paramref name="rejection"/> set when they cannot be told: neither given, both
    /// given, a value on a poll without a scale, or a value off the scale.
    /// </summary>
    public static int[]? ResolveChoice(PollDefinition poll, int[]? optionIds, int? value, out Rejection? rejection)
    {
        ArgumentNullException.ThrowIfNull(poll);
        rejection = null;
        if (value is not { } v)
        {
            if (optionIds is null)
            {
                rejection = new Rejection(RejectionKind.Invalid, poll.Kind.IsScale()
                    ? "value is required: a number from the poll's scale (or optionIds, one option id)."
                    : "optionIds is required: an array of option ids.");
            }

            return optionIds;
        }

        if (!poll.Kind.IsScale())
        {
            rejection = new Rejection(RejectionKind.Invalid, "value is for rating and nps polls; this poll takes optionIds.");
            return null;
        }

        if (optionIds is not null)
        {
            rejection = new Rejection(RejectionKind.Invalid, "Give value or optionIds, not both.");
            return null;
        }

        if (v < poll.ScaleMin || v > poll.ScaleMax)
        {
            rejection = new Rejection(RejectionKind.UnknownOption, $"Value {v} is not on poll {poll.Id}'s scale ({poll.ScaleMin} to {poll.ScaleMax}).");
            return null;
        }

        return [v - poll.ScaleMin + 1];
    }

    /// <summary>Checks a ballot against a poll's definition (not its state: closing and dedupe are decided by the partition).</summary>
    public static Rejection? CheckBallot(PollDefinition poll, CastVote vote) => CheckBallot(poll, vote, out _);

    /// <summary>
    /// Checks a ballot against a poll's definition (not its state: closing and dedupe are decided by the
    /// partition) and gives the ballot to decide: <paramref name="vote"/> itself, or a copy whose voterId is
    /// in NFC. The voterId and idempotency key rules are <see cref="CheckVoterId"/> and <see cref="CheckIdempotencyKey"/>.
    /// </summary>
    public static Rejection? CheckBallot(PollDefinition poll, CastVote vote, out CastVote admitted)
    {
        ArgumentNullException.ThrowIfNull(poll);
        ArgumentNullException.ThrowIfNull(vote);
        admitted = vote;
        if (poll.Kind == PollKind.Event)
        {
            return new Rejection(RejectionKind.Invalid, $"Poll {poll.Id} is an event, which takes no ballots: answer its questions ({poll.QuestionId(1)} and on).");
        }

        var ids = vote.OptionIds;
        if (TextRules.CheckAnswer(poll, vote, out var text, out var terms) is { } badAnswer)
        {
            return badAnswer;
        }

        if (QuestionRules.CheckBallot(poll, vote, out var question) is { } badQuestion)
        {
            return badQuestion;
        }

        if (poll.Kind == PollKind.Text)
        {
            vote = vote with { Text = text, Terms = terms };
            admitted = vote;
        }
        else if (poll.Kind == PollKind.Questions)
        {
            vote = vote with { Text = question, Terms = null };
            admitted = vote;
        }
        else if (ids is null || ids.Length == 0)
        {
            return new Rejection(RejectionKind.Invalid, "optionIds must name at least one option.");
        }

        if (poll.Kind.IsOneChoice() && ids.Length != 1)
        {
            return new Rejection(RejectionKind.Invalid, poll.Kind.IsScale()
                ? $"This poll takes exactly one value; {ids.Length} option ids were given."
                : $"This poll takes exactly one option; {ids.Length} were given.");
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

        string? voterId = null;
        if (vote.VoterId is not null && CheckVoterId(vote.VoterId, out voterId) is { } badVoter)
        {
            return new Rejection(RejectionKind.Invalid, badVoter);
        }

        if (vote.IdempotencyKey is { } key && CheckIdempotencyKey(key) is { } badKey)
        {
            return new Rejection(RejectionKind.Invalid, badKey);
        }

        if (!ReferenceEquals(voterId, vote.VoterId))
        {
            admitted = vote with { VoterId = voterId };
        }

        return null;
    }

    /// <summary>
    /// The voterId rule; null with <paramref name="normalized"/> set when <paramref name="voterId"/> is
    /// fine, else the sentence for the client (which never repeats the id).
    /// </summary>
    /// <remarks>
    /// A voterId is the host application's own id for a person, opaque to Tally: it is compared
    /// <b>ordinally, case-sensitively</b> (an application may well have "ada" and "Ada" as two users, and
    /// case folding is locale-dependent), after one normalisation, to Unicode NFC, so that the composed and
    /// decomposed spellings of one text (é as U+00E9, or e + U+0301) are one voter. What cannot be part of a
    /// sensible id, and would let one person pass for two with text that looks the same, is refused rather
    /// than silently rewritten: white space at either end, control characters (Unicode Cc), format
    /// characters (Cf: zero-width space and joiners, bidi controls, the BOM…), unpaired surrogates and
    /// noncharacters. At most <see cref="MaxVoterIdLength"/> UTF-16 code units, before and after NFC.
    /// </remarks>
    public static string? CheckVoterId(string voterId, out string? normalized)
    {
        ArgumentNullException.ThrowIfNull(voterId);
        normalized = null;
        if (voterId.Length > MaxVoterIdLength)
        {
            return $"voterId is at most {MaxVoterIdLength} characters.";
        }

        if (CheckText(voterId, "voterId") is { } bad)
        {
            return bad;
        }

        var nfc = voterId.Normalize(NormalizationForm.FormC); // ICU's NFC (EnsureNormalization: never the invariant mode's no-op)
        if (nfc.Length > MaxVoterIdLength)
        {
            return $"voterId is at most {MaxVoterIdLength} characters in Unicode NFC.";
        }

        normalized = nfc;
        return null;
    }

    /// <summary>
    /// The idempotency key rule: 1 to <see cref="MaxIdempotencyKeyLength"/> UTF-16 code units, with the
    /// refusals of <see cref="CheckVoterId"/>. Keys are compared ordinally as sent: they are not normalised
    /// (a client retries with the very bytes it sent the first time).
    /// </summary>
    public static string? CheckIdempotencyKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length is 0 or > MaxIdempotencyKeyLength
            ? $"An idempotency key is 1 to {MaxIdempotencyKeyLength} characters."
            : CheckText(key, "The idempotency key");
    }

    /// <summary>The refusals shared by voterIds, idempotency keys and text answers; the sentence names the code point, never the text.</summary>
    internal static string? CheckTextCharacters(string value, string what) => CheckText(value, what);

    private static string? CheckText(string value, string what)
    {
        for (var i = 0; i < value.Length;)
        {
            if (Rune.DecodeFromUtf16(value.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                return $"{what} has an unpaired surrogate (U+{(int)value[i]:X4}) at index {i}.";
            }

            var problem = Rune.GetUnicodeCategory(rune) switch
            {
                UnicodeCategory.Control => "a control character",
                UnicodeCategory.Format => "an invisible format character",
                _ when IsNoncharacter(rune.Value) => "a noncharacter",
                _ when Rune.IsWhiteSpace(rune) && (i == 0 || i + used == value.Length) => i == 0 ? "white space at the start" : "white space at the end",
                _ => null,
            };
            if (problem is not null)
            {
                return $"{what} has {problem} (U+{rune.Value:X4}) at index {i}; such ids are refused, not rewritten.";
            }

            i += used;
        }

        return null;
    }

    private static bool IsNoncharacter(int cp) => cp is >= 0xFDD0 and <= 0xFDEF || (cp & 0xFFFE) == 0xFFFE;
}
