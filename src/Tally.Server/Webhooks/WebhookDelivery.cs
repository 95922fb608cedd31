using Tally.Events;
using Tally.Webhooks;

namespace Tally.Server.Webhooks;

/// <summary>
/// Delivers one endpoint's events in log order, one message at a time: the next is sent only once the receiver took
/// this one (2xx), so a receiver sees each poll's events in <c>seq</c> order. A failed attempt is retried after
/// <see cref="WebhookOptions.FirstRetryDelay"/>, doubling (±20% jitter) up to <see cref="WebhookOptions.MaxRetryDelay"/>;
/// a message still failing after <see cref="WebhookOptions.RetryFor"/>, or a 410 Gone, disables the endpoint with its
/// cursor on that message, so enabling it again resumes there and nothing is lost. The cursor and the attempts are
/// saved together every <see cref="WebhookOptions.SaveInterval"/> and before every wait: after a crash at most the
/// messages of the last interval are sent again, with the same <c>webhook-id</c> (delivery is at least once).
/// </summary>
internal sealed class WebhookDelivery(
    WebhookEndpoint endpoint,
    IWebhookStore store,
    IWebhookFeed feed,
    WebhookDispatcher dispatcher,
    WebhookSender sender,
    WebhookSecrets secrets,
    byte[] voterHashKey,
    WebhookOptions options,
    TimeProvider time,
    ILogger logger) : IDisposable
{
    private const int Page = 256;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<WebhookAttempt> _attempts = [];
    private Task? _run;
    private long _cursor = endpoint.Cursor;
    private long _saved = endpoint.Cursor;
    private long _savedBefore = endpoint.Cursor;
    private long _lastSave;

    public WebhookEndpoint Endpoint { get; } = endpoint;

    /// <summary>True when <paramref name="stored"/> differs from what this delivery runs with: changed settings, or a cursor set from outside (a replay).</summary>
    public bool IsStale(WebhookEndpoint stored)
    {
        var e = Endpoint;
        if (_run is { IsCompleted: true } || stored.Url != e.Url || stored.Events != e.Events || stored.Voters != e.Voters || stored.Workspace != e.Workspace
            || !stored.Secrets.Select(s => (s.CreatedAt, s.ExpiresAt)).SequenceEqual(e.Secrets.Select(s => (s.CreatedAt, s.ExpiresAt))))
        {
            return true;
        }

        // The endpoint list may have been read just before this delivery's last save: its cursor is then the one saved before.
        var saved = Interlocked.Read(ref _saved);
        var before = Interlocked.Read(ref _savedBefore);
        return stored.Cursor != saved && stored.Cursor != before;
    }

    public void Start() => _run = Task.Run(() => RunAsync(_stop.Token));

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await (_run ?? Task.CompletedTask).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

    }

    public void Dispose() => _stop.Dispose();

    private async Task RunAsync(CancellationToken stopping)
    {
        WebhookLog.Delivering(logger, Endpoint.Id, _cursor);
        var pause = options.PollInterval;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (!await DeliverFromCursorAsync(stopping).ConfigureAwait(false))
                {
                    return; // disabled, or the cursor was set from outside: the dispatcher starts a fresh delivery
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                await TrySaveAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception ex)
            {
                // The store or the log away, or a poll that cannot be read now: nothing was skipped; start again from the cursor.
                if (ex is not WebhookRetryException)
                {
                    WebhookLog.Faulted(logger, Endpoint.Id, ex);
                }

                await Task.Delay(pause, time, stopping).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>Delivers until stopped; false when this delivery must end (disabled, or its cursor moved under it).</summary>
    private async Task<bool> DeliverFromCursorAsync(CancellationToken stopping)
    {
        while (true)
        {
            var events = await feed.ReadAsync(_cursor, Page, stopping).ConfigureAwait(false);
            if (events.Count == 0)
            {
                if ((_cursor != _saved || _attempts.Count > 0) && !await SaveAsync(stopping).ConfigureAwait(false))
                {
                    return false;
                }

                await Task.Delay(options.PollInterval, time, stopping).ConfigureAwait(false);
                continue;
            }

            foreach (var stored in events)
            {
                if (!await OfferAsync(stored, stopping).ConfigureAwait(false))
                {
                    return false;
                }

                _cursor = stored.Position;
                if (time.GetElapsedTime(_lastSave) >= options.SaveInterval && !await SaveAsync(stopping).ConfigureAwait(false))
                {
                    return false;
                }
            }
        }
    }

    /// <summary>Sends the event if the endpoint takes it; false when the endpoint was disabled (or replayed) meanwhile.</summary>
    private async Task<bool> OfferAsync(StoredEvent stored, CancellationToken stopping)
    {
        var poll = await dispatcher.PollOfAsync(stored.Event, stopping).ConfigureAwait(false);
        if (poll is null || poll.Workspace != Endpoint.Workspace)
        {
            return true;
        }

        var type = WebhookPayloads.TypeOf(stored.Event, poll);
        if ((Endpoint.Events & type) == 0)
        {
            return true;
        }

        var body = WebhookPayloads.Write(stored, poll, type, Endpoint.Voters, voterHashKey);
        var messageId = WebhookPayloads.MessageId(stored.Event);
        var typeName = WebhookEventTypes.Name(type);
        DateTimeOffset? failingSince = null;
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow();
            var timestamp = now.ToUnixTimeSeconds();
            var (status, error, duration) = await sender.SendAsync(Endpoint.Url, messageId, timestamp, Sign(messageId, timestamp, body, now), body, stopping).ConfigureAwait(false);
            var succeeded = error is null;
            _attempts.Add(new WebhookAttempt(0, Endpoint.Id, messageId, typeName, stored.Position, attempt, now, status, succeeded, duration, error));
            if (succeeded)
            {
                return true;
            }

            failingSince ??= now;
            string? disable = status == 410 ? "the receiver answered 410 Gone"
                : time.GetUtcNow() - failingSince >= options.RetryFor ? $"{messageId} failed for {options.RetryFor.TotalHours:0.#} hours ({attempt} attempts; last: {error})"
                : null;
            if (disable is not null)
            {
                await SaveAsync(stopping).ConfigureAwait(false);
                await DisableAsync(disable, stopping).ConfigureAwait(false);
                return false;
            }

            if (!await SaveAsync(stopping).ConfigureAwait(false))
            {
                return false;
            }

            var delay = RetryDelay(attempt);
            WebhookLog.AttemptFailed(logger, Endpoint.Id, attempt, messageId, status, error!, (long)delay.TotalMilliseconds);
            await Task.Delay(delay, time, stopping).ConfigureAwait(false);
        }
    }

    private string Sign(string messageId, long timestamp, byte[] body, DateTimeOffset now)
    {
        var signatures = new List<string>(2);
        foreach (var secret in Endpoint.Secrets)
        {
            if (secret.ExpiresAt is { } expires && expires <= now)
            {
                continue;
            }

            var key = secrets.Open(secret);
            try
            {
                signatures.Add(WebhookSignature.Sign(key, messageId, timestamp, body));
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(key);
            }
        }

        return string.Join(' ', signatures);
    }

    private TimeSpan RetryDelay(int attempt)
    {
        var doubled = options.FirstRetryDelay.Ticks * Math.Pow(2, Math.Min(attempt - 1, 40));
        var capped = Math.Min(doubled, options.MaxRetryDelay.Ticks);
        return TimeSpan.FromTicks((long)(capped * (0.8 + (0.4 * Random.Shared.NextDouble()))));
    }

    private async Task DisableAsync(string reason, CancellationToken stopping)
    {
        var current = await store.FindAsync(Endpoint.Workspace, Endpoint.Id, stopping).ConfigureAwait(false);
        if (current is { Enabled: true })
        {
            await store.UpdateAsync(current with { Enabled = false, DisabledReason = reason, DisabledAt = time.GetUtcNow() }, stopping).ConfigureAwait(false);
            WebhookLog.Disabled(logger, Endpoint.Id, reason);
        }

        dispatcher.Refresh();
    }

    /// <summary>Saves the cursor and the attempts; false when the cursor was set from outside meanwhile (a replay).</summary>
    private async Task<bool> SaveAsync(CancellationToken cancellationToken)
    {
        var attempts = _attempts.ToArray();
        var moved = await store.SaveProgressAsync(Endpoint.Id, _saved, _cursor, attempts, cancellationToken).ConfigureAwait(false);
        _attempts.Clear();
        _lastSave = time.GetTimestamp();
        if (!moved)
        {
            dispatcher.Refresh();
            return false;
        }

        Interlocked.Exchange(ref _savedBefore, _saved);
        Interlocked.Exchange(ref _saved, _cursor);
        return true;
    }

    private async Task TrySaveAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await SaveAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or System.Data.Common.DbException)
        {
            // Stopping: the cursor stays where it was saved last; those messages are sent again (same ids) next time.
        }
    }
}
