namespace Tally.Polls;

/// <summary>A change of a poll's status made by hand (closing has its own command).</summary>
public enum PollTransition
{
    /// <summary>Draft (or scheduled) → open.</summary>
    Open = 0,

    /// <summary>Open → paused: votes are refused until it resumes.</summary>
    Pause = 1,

    /// <summary>Paused → open.</summary>
    Resume = 2,

    /// <summary>Closed → open, on a poll made with <see cref="PollDefinition.AllowReopen"/> whose <c>closesAt</c> and <c>maxBallots</c> allow it.</summary>
    Reopen = 3,
}
