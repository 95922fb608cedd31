namespace Tally.Polls;

/// <summary>The shape of a poll id. The engine makes 10 lowercase letters and digits; anything that is not 1–64 ASCII letters or digits names no poll.</summary>
public static class PollIds
{
    public const int MaxLength = 64;

    /// <summary>True when <paramref name="id"/> could name a poll (checked before an id is looked up, echoed, logged or put in a subject).</summary>
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
