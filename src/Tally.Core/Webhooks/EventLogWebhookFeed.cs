using Tally.Events;
using Tally.Storage;

namespace Tally.Webhooks;

/// <summary>The feed of one event log (embedded mode: the SQLite log every partition appends to).</summary>
public sealed class EventLogWebhookFeed(IEventLog log) : IWebhookFeed
{
    public bool Delivers => true;

    public ValueTask<long> ReadHeadAsync(CancellationToken cancellationToken) => ValueTask.FromResult(log.CommittedPosition);

    public async Task<IReadOnlyList<StoredEvent>> ReadAsync(long afterPosition, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var events = new List<StoredEvent>();
        if (log.CommittedPosition <= afterPosition)
        {
            return events;
        }

        // Leaving the loop early disposes the reader, so no read transaction stays open between pages.
        await foreach (var e in log.ReadAsync(afterPosition, cancellationToken).ConfigureAwait(false))
        {
            events.Add(e);
            if (events.Count == max)
            {
                break;
            }
        }

        return events;
    }
}
