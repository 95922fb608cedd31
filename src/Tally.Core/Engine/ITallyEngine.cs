using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The engine as the host sees it: commands in, the read model out. Embedded mode: <see cref="TallyEngine"/>
/// (single process, SQLite). Cluster mode: the cluster adapter's engine (partitions owned across nodes).
/// </summary>
public interface ITallyEngine
{
    /// <summary>The read model every query and the live hub use.</summary>
    PollCatalog Catalog { get; }

    /// <summary>True while the engine takes commands.</summary>
    bool IsRunning { get; }

    /// <summary>Events applied at start to rebuild the state (for the start-up log line).</summary>
    long ReplayedEvents { get; }

    /// <summary>Raised on a fault the engine survives; the host logs it.</summary>
    event Action<string, Exception>? Faulted;

    Task StartAsync(CancellationToken cancellationToken);

    Task StopAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The poll's definition, or null when there is no such poll. Unlike <see cref="PollCatalog.FindPoll"/>, a
    /// cluster node that has not seen the poll yet catches up with the log before it says there is none.
    /// </summary>
    ValueTask<PollDefinition?> FindPollAsync(string pollId, CancellationToken cancellationToken);

    Task<Outcome<PollResults>> CreatePollAsync(CreatePoll command);

    Task<Outcome<PollResults>> ClosePollAsync(string pollId);

    ValueTask<VoteOutcome> CastVoteAsync(CastVote vote);

    Task<Outcome<VoteOutcome[]>> CastVotesAsync(IReadOnlyList<CastVote> votes);
}
