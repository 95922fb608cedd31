namespace Tally.Polls;

/// <summary>What the kinds of <see cref="PollKind"/> have in common.</summary>
public static class PollKinds
{
    /// <summary>True for the kinds whose options are the values of a numeric scale (<c>rating</c>, <c>nps</c>).</summary>
    public static bool IsScale(this PollKind kind) => kind is PollKind.Rating or PollKind.Nps;

    /// <summary>True for the kinds whose ballot names exactly one option.</summary>
    public static bool IsOneChoice(this PollKind kind) => kind is PollKind.Single or PollKind.Rating or PollKind.Nps or PollKind.Quiz;
}
