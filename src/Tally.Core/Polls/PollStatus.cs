namespace Tally.Polls;

/// <summary>Whether a poll accepts votes.</summary>
public enum PollStatus
{
    Open = 0,
    Closed = 1,
}
