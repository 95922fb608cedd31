namespace Tally.Polls;

/// <summary>Who may be counted more than once.</summary>
public enum DedupePolicy
{
    /// <summary>One ballot per <c>voterId</c> per poll; a second ballot is refused or, with <c>allowChange</c>, replaces the first.</summary>
    Voter = 0,

    /// <summary>Every accepted ballot counts; <c>voterId</c> is optional.</summary>
    None = 1,
}
