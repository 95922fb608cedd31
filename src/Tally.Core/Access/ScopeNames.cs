namespace Tally.Access;

/// <summary>The wire names of <see cref="Scopes"/> (<c>polls:manage</c>, …) and what each implies.</summary>
public static class ScopeNames
{
    public const string PollsRead = "polls:read";
    public const string PollsManage = "polls:manage";
    public const string VotesWrite = "votes:write";
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [PollsRead, PollsManage, VotesWrite, Admin];

    /// <summary>The scope a name stands for, or <see cref="Scopes.None"/> for an unknown name.</summary>
    public static Scopes Parse(string? name) => name switch
    {
        PollsRead => Scopes.PollsRead,
        PollsManage => Scopes.PollsManage,
        VotesWrite => Scopes.VotesWrite,
        Admin => Scopes.Admin,
        _ => Scopes.None,
    };

    /// <summary>The names of the scopes set in <paramref name="scopes"/>, in a fixed order.</summary>
    public static IReadOnlyList<string> Format(Scopes scopes)
    {
        var names = new List<string>(4);
        foreach (var name in All)
        {
            if ((scopes & Parse(name)) != 0)
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>The scopes <paramref name="granted"/> amounts to: <c>admin</c> implies every scope, <c>polls:manage</c> implies <c>polls:read</c>.</summary>
    public static Scopes Expand(Scopes granted)
    {
        if ((granted & Scopes.Admin) != 0)
        {
            return Scopes.Admin | Scopes.PollsManage | Scopes.PollsRead | Scopes.VotesWrite;
        }

        return (granted & Scopes.PollsManage) != 0 ? granted | Scopes.PollsRead : granted;
    }
}
