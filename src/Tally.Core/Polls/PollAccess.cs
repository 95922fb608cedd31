namespace Tally.Polls;

/// <summary>Who may read a poll, its results and its live streams.</summary>
public enum PollAccess
{
    /// <summary>Anyone who knows the poll's id.</summary>
    Public = 0,

    /// <summary>
    /// Only callers with rights in the poll's workspace: a key with <c>polls:read</c> or <c>polls:manage</c>, a JWT of the
    /// workspace, or a short-lived watch token for the poll. Everyone else is told there is no such poll.
    /// </summary>
    Private = 1,
}
