namespace Tally.Access;

/// <summary>Workspace ids: the default workspace's, and the shape every other one has.</summary>
public static class WorkspaceIds
{
    /// <summary>The workspace of the operator's root key, and of every poll made before workspaces existed.</summary>
    public const string Default = "default";

    public const int MaxLength = 40;

    /// <summary>1 to 40 lowercase ASCII letters, digits and inner hyphens (<c>acme</c>, <c>team-7</c>).</summary>
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxLength || id[0] == '-' || id[^1] == '-')
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }
}
