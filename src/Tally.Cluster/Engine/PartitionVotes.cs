using Tally.Cluster.EventLog;
using Tally.Cluster.Ledger;
using Tally.Engine;
using Tally.Polls;

namespace Tally.Cluster.Engine;

/// <summary>
/// Votes on a partition this node owns, answered as the cluster's ack says: at once (the default), or once the
/// PostgreSQL ledger holds them too (<see cref="ClusterOptions.AckAfterLedger"/>, <see cref="LedgerAck"/>). Used alike
/// for votes sent to this node and votes forwarded to it, so both wait the same way.
/// </summary>
internal sealed class PartitionVotes(Func<int, JetStreamEventLog?> logOf, LedgerAck? ledger)
{
    public async Task<VoteOutcome> CastAsync(int partition, TallyEngine engine, CastVote vote)
    {
        var outcome = await engine.CastVoteAsync(vote).ConfigureAwait(false);
        return ledger is not null && logOf(partition) is { } log ? await ledger.AfterAsync(log, outcome).ConfigureAwait(false) : outcome;
    }

    public async Task<Outcome<VoteOutcome[]>> CastAsync(int partition, TallyEngine engine, IReadOnlyList<CastVote> votes)
    {
        var outcome = await engine.CastVotesAsync(votes).ConfigureAwait(false);
        return ledger is not null && logOf(partition) is { } log ? await ledger.AfterAsync(log, outcome).ConfigureAwait(false) : outcome;
    }
}
