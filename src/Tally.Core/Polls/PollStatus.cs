namespace Tally.Polls;

/// <summary>Where a poll is in its life: only an open poll accepts votes.</summary>
public enum PollStatus
{
    Open = 0,
    Closed = 1,

    /// <summary>Made but not open yet: by hand (<c>draft</c>), or at its <see cref="PollDefinition.OpensAt"/> ("scheduled").</summary>
    Draft = 2,

    /// <summary>Open, with voting paused by hand (answers locked); it resumes by hand.</summary>
    Paused = 3,
}
