namespace Tally.Live;

public enum LiveMessageKind
{
    /// <summary>The whole results: every option with its text and count.</summary>
    Snapshot,

    /// <summary>The absolute counts of the options that changed since the previous message on the stream.</summary>
    Delta,

    /// <summary>The poll closed; no more deltas follow.</summary>
    Closed,
}
