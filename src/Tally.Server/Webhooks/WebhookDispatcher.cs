using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Tally.Cluster;
using Tally.Cluster.Hosting;
using Tally.Engine;
using Tally.Events;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Webhooks;

namespace Tally.Server.Webhooks;

/// <summary>
/// Runs one <see cref="WebhookDelivery"/> per enabled endpoint while this node delivers (<see cref="IWebhookFeed.Delivers"/>),
/// reading the endpoints again every <see cref="WebhookOptions.RefreshInterval"/> (or at once after a change made here):
/// a new or changed endpoint gets a fresh delivery from its stored cursor, a disabled or deleted one loses its delivery.
/// </summary>
internal sealed class WebhookDispatcher(
    IWebhookStore store,
    IWebhookFeed feed,
    ITallyEngine engine,
    WebhookSender sender,
    WebhookSecrets secrets,
    ServerKeys keys,
    IOptions<WebhookOptions> options,
    IOptions<ClusterOptions> cluster,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private const int PollCacheSize = 10_000;
    private readonly Dictionary<string, WebhookDelivery> _deliveries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PollDefinition> _polls = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0, 1);

    /// <summary>Endpoints delivering on this node now (tests).</summary>
    internal int Delivering
    {
        get
        {
            lock (_deliveries)
            {
                return _deliveries.Count;
            }
        }
    }

    /// <summary>Reads the endpoints again now (after a change through this node's API).</summary>
    public void Refresh()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is due already.
        }
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await StartupRetry.RunAsync("the webhook store", store.OpenAsync, cluster.Value.StartTimeout, logger, cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ReconcileAsync(settings.Enabled && feed.Delivers, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    WebhookLog.RefreshFailed(logger, ex);
                }

                try
                {
                    await _changed.WaitAsync(settings.RefreshInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await StopAllAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The poll an event belongs to (cached; a log's PollCreated fills the cache as it passes), or null when the poll is gone.</summary>
    internal async ValueTask<PollDefinition?> PollOfAsync(PollEvent e, CancellationToken cancellationToken)
    {
        if (e is PollCreated created)
        {
            Remember(created.Definition);
            return created.Definition;
        }

        if (_polls.TryGetValue(e.PollId, out var known))
        {
            return known;
        }

        var found = await engine.FindPollAsync(e.PollId, cancellationToken).ConfigureAwait(false);
        if (found.Value is { } poll)
        {
            Remember(poll);
            return poll;
        }

        // Unknown here means gone for good; anything else (no owner yet, overloaded) is asked again by the caller.
        return found.Rejection?.Kind == RejectionKind.UnknownPoll ? null : throw new WebhookRetryException(found.Rejection?.Detail ?? "the poll could not be read");
    }

    private void Remember(PollDefinition poll)
    {
        if (_polls.Count >= PollCacheSize)
        {
            _polls.Clear();
        }

        _polls[poll.Id] = poll;
    }

    private async Task ReconcileAsync(bool delivers, CancellationToken stoppingToken)
    {
        var wanted = delivers ? await store.ListAsync(null, stoppingToken).ConfigureAwait(false) : [];
        var stale = new List<WebhookDelivery>();
        lock (_deliveries)
        {
            var enabled = wanted.Where(e => e.Enabled).ToDictionary(e => e.Id, StringComparer.Ordinal);
            foreach (var (id, delivery) in _deliveries)
            {
                if (!enabled.TryGetValue(id, out var endpoint) || delivery.IsStale(endpoint))
                {
                    stale.Add(delivery);
                }
            }

            foreach (var delivery in stale)
            {
                _deliveries.Remove(delivery.Endpoint.Id);
            }
        }

        await StopAsync(stale).ConfigureAwait(false);
        lock (_deliveries)
        {
            foreach (var endpoint in wanted.Where(e => e.Enabled && !_deliveries.ContainsKey(e.Id)))
            {
                var delivery = new WebhookDelivery(endpoint, store, feed, this, sender, secrets, keys.ExportKey, options.Value, time, logger);
                _deliveries[endpoint.Id] = delivery;
                delivery.Start();
            }
        }
    }

    private async Task StopAllAsync()
    {
        WebhookDelivery[] all;
        lock (_deliveries)
        {
            all = [.. _deliveries.Values];
            _deliveries.Clear();
        }

        await StopAsync(all).ConfigureAwait(false);
    }

    private static async Task StopAsync(IReadOnlyCollection<WebhookDelivery> deliveries)
    {
        await Task.WhenAll(deliveries.Select(d => d.StopAsync())).ConfigureAwait(false);
        foreach (var delivery in deliveries)
        {
            delivery.Dispose();
        }
    }
}

/// <summary>A step of delivery that must be tried again later (the poll could not be read now).</summary>
internal sealed class WebhookRetryException(string message) : Exception(message);
