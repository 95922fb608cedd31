using Tally.Events;

namespace Tally.Webhooks;

/// <summary>
/// Where webhook deliveries read the events from: the durable log, in position order, from a cursor. Embedded mode
/// reads the SQLite log (<see cref="EventLogWebhookFeed"/>); cluster mode reads the JetStream stream, every partition.
/// </summary>
public interface IWebhookFeed
{
    /// <summary>
    /// True when this node delivers webhooks now. In embedded mode always; in a cluster only on one node at a time
    /// (during a hand-over two may for a moment: delivery is at least once, and a message's id never changes).
    /// </summary>
    bool Delivers { get; }

    /// <summary>The position of the last durable event (what a replay may go back from; a cursor above it is refused).</summary>
    ValueTask<long> ReadHeadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> durable events after <paramref name="afterPosition"/>, in position order; empty when
    /// there is none yet. Holds nothing open between calls (a receiver down for a day keeps no read open on the log).
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> ReadAsync(long afterPosition, int max, CancellationToken cancellationToken);
}
