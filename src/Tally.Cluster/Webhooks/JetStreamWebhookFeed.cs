using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Tally.Cluster.Engine;
using Tally.Cluster.EventLog;
using Tally.Events;
using Tally.Webhooks;

namespace Tally.Cluster.Webhooks;

/// <summary>
/// The cluster's webhook feed: the JetStream stream of every partition's events, in stream order (each partition's
/// events stay in their order; partitions interleave as they committed). A position is the stream sequence of the
/// event's message shifted left 12 bits plus the event's index in it (a batch holds at most 2,048 events), so one
/// number orders every event of the cluster. Reads fetch messages one by one (direct gets), holding nothing open.
/// Webhooks are delivered by the node that owns partition 0 (the one that also runs the ledger's projector).
/// </summary>
internal sealed class JetStreamWebhookFeed(INatsConnection nats, ClusterOptions options, ClusterEngine engine) : IWebhookFeed
{
    private const int IndexBits = 12;
    private const int NoMessageFound = 10037;
    private readonly NatsJSContext _js = new(nats);

    public bool Delivers => engine.IsRunning && engine.OwnedPartitions.Contains(0);

    public async ValueTask<long> ReadHeadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var stream = await _js.GetStreamAsync(options.StreamName, cancellationToken: cancellationToken).ConfigureAwait(false);
            return ((long)stream.Info.State.LastSeq << IndexBits) | ((1 << IndexBits) - 1);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return 0; // no partition has opened its log yet
        }
    }

    public async Task<IReadOnlyList<StoredEvent>> ReadAsync(long afterPosition, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var events = new List<StoredEvent>();
        INatsJSStream stream;
        try
        {
            stream = await _js.GetStreamAsync(options.StreamName, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            return events;
        }

        var last = stream.Info.State.LastSeq;
        for (var seq = Math.Max(1UL, (ulong)afterPosition >> IndexBits); seq <= last && events.Count < max; seq++)
        {
            StoredMessage message;
            try
            {
                message = (await stream.GetAsync(new StreamMsgGetRequest { Seq = seq }, cancellationToken).ConfigureAwait(false)).Message;
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode == NoMessageFound || ex.Error.Code == 404)
            {
                // The stream has no limits and nothing is deleted from it: a hole is lost data. Refuse to skip it.
                throw new InvalidDataException($"The event stream has no message at sequence {seq} (its last is {last}); webhook delivery stops here rather than skip it.");
            }

            var index = 0L;
            foreach (var stored in BatchMessage.Read(message.Data, 0))
            {
                var position = ((long)seq << IndexBits) | index++;
                if (position > afterPosition)
                {
                    events.Add(new StoredEvent(position, stored.Event));
                }
            }
        }

        return events;
    }
}
