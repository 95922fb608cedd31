namespace Tally.Polls;

/// <summary>When callers without read rights in the workspace may see a poll's counts (on every read path and stream).</summary>
public enum ResultsVisibility
{
    /// <summary>Always, as votes arrive.</summary>
    Live = 0,

    /// <summary>Once the reader has voted on the poll (as the poll's voter identity says who they are), or once it is closed.</summary>
    AfterVote = 1,

    /// <summary>Once the poll is closed.</summary>
    AfterClose = 2,

    /// <summary>Never: only readers with <c>polls:read</c> or <c>polls:manage</c> in the poll's workspace.</summary>
    Never = 3,
}
