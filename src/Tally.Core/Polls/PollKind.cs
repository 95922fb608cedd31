namespace Tally.Polls;

/// <summary>How many options one ballot may choose.</summary>
public enum PollKind
{
    /// <summary>Exactly one option per ballot.</summary>
    Single = 0,

    /// <summary>One up to <see cref="PollDefinition.MaxChoices"/> distinct options per ballot.</summary>
    Multiple = 1,
}
