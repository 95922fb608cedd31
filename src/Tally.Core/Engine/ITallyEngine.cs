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
    /// The poll's definition, or <see cref="RejectionKind.UnknownPoll"/> when there is no such poll. A cluster
    /// node asks the poll's partition owner when it has not seen the poll (definitions never change, so it keeps
    /// them), and may answer <see cref="RejectionKind.Unavailable"/> while that partition has no owner.
    /// </summary>
    ValueTask<Outcome<PollDefinition>> FindPollAsync(string pollId, CancellationToken cancellationToken);

    /// <summary>
    /// The poll's latest results: the committed state, so a client reads its own acknowledged writes on any
    /// node (a cluster node asks the partition's owner). Rejections as for <see cref="FindPollAsync"/>.
    /// </summary>
    ValueTask<Outcome<PollResults>> GetResultsAsync(string pollId, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <see cref="Catalog"/> hold the poll's results and keeps them current while the live hub streams
    /// the poll (a cluster node subscribes to the poll's live updates only now), then returns its definition.
    /// Call it before <c>LiveHub.Subscribe</c>. Rejections as for <see cref="FindPollAsync"/>.
    /// </summary>
    ValueTask<Outcome<PollDefinition>> WatchAsync(string pollId, CancellationToken cancellationToken);

    /// <summary>
    /// Newest polls first, at most <paramref name="limit"/>, after the page <paramref name="cursor"/> (from a
    /// previous page's <see cref="PollPage.NextCursor"/>; null for the first page); only <paramref name="workspace"/>'s
    /// polls when it is given. A cursor this engine did not give out is <see cref="RejectionKind.Invalid"/>.
    /// </summary>
    Task<Outcome<PollPage>> ListPollsAsync(string? workspace, int limit, string? cursor, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="voterId"/> has a ballot on the poll, as its single writer knows it (after every command
    /// acknowledged before this call). Rejections as for <see cref="FindPollAsync"/>.
    /// </summary>
    ValueTask<Outcome<BallotLookup>> FindBallotAsync(string pollId, string voterId, CancellationToken cancellationToken);

    Task<Outcome<PollResults>> CreatePollAsync(CreatePoll command);

    Task<Outcome<PollResults>> ClosePollAsync(string pollId);

    ValueTask<VoteOutcome> CastVoteAsync(CastVote vote);

    Task<Outcome<VoteOutcome[]>> CastVotesAsync(IReadOnlyList<CastVote> votes);
}
