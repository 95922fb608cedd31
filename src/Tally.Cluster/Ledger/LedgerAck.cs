using Tally.Cluster.EventLog;
using Tally.Engine;
using Tally.Polls;

namespace Tally.Cluster.Ledger;

/// <summary>
/// <see cref="ClusterOptions.AckAfterLedger"/>: a vote the partition's owner counted is answered only once the PostgreSQL
/// ledger holds it too (a committed PostgreSQL transaction: it survives what PostgreSQL's own fsync survives, whatever
/// NATS flushes). The wait comes after the engine decided, so the engine's state and the log stay as they are; a vote
/// the ledger has not taken within <see cref="ClusterOptions.LedgerAckTimeout"/> is answered 503 with its outcome
/// unknown to the client: a retry with the same Idempotency-Key (or the same voter on a deduped poll) is counted once.
/// </summary>
internal sealed class LedgerAck(LedgerWatermark ledger, TimeSpan timeout)
{
    public async Task<VoteOutcome> AfterAsync(JetStreamEventLog log, VoteOutcome outcome) =>
        outcome.Rejection is null && !await CaughtUpAsync(log).ConfigureAwait(false) ? VoteOutcome.Rejected(Behind()) : outcome;

    public async Task<Outcome<VoteOutcome[]>> AfterAsync(JetStreamEventLog log, Outcome<VoteOutcome[]> outcome)
    {
        if (outcome.Value is not { } votes || votes.All(v => v.Rejection is not null) || await CaughtUpAsync(log).ConfigureAwait(false))
        {
            return outcome;
        }

        var behind = VoteOutcome.Rejected(Behind());
        return votes.Select(v => v.Rejection is null ? behind : v).ToArray();
    }

    /// <summary>True once the ledger holds every message this log had appended when asked (the vote's among them).</summary>
    private async Task<bool> CaughtUpAsync(JetStreamEventLog log)
    {
        using var waited = new CancellationTokenSource(timeout);
        try
        {
            await ledger.WaitAsync(log.LastSubjectSequence, waited.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (waited.IsCancellationRequested)
        {
            return false;
        }
    }

    private Rejection Behind() => new(RejectionKind.Unavailable,
        $"The vote is in the event stream but the PostgreSQL ledger has not committed it within {timeout.TotalSeconds:0.#} s (Tally:Cluster:AckAfterLedger): its outcome is not confirmed. Retry with the same Idempotency-Key: it is counted once.");
}
