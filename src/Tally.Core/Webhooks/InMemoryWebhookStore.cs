namespace Tally.Webhooks;

/// <summary>Webhook endpoints in memory (tests, and the in-memory engine): lost at exit.</summary>
public sealed class InMemoryWebhookStore : IWebhookStore
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, WebhookEndpoint> _endpoints = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<WebhookAttempt>> _attempts = new(StringComparer.Ordinal);
    private long _nextAttempt;

    public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool> CreateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        lock (_lock)
        {
            return Task.FromResult(_endpoints.TryAdd(endpoint.Id, Normalise(endpoint)));
        }
    }

    public Task<WebhookEndpoint?> FindAsync(string workspace, string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_endpoints.TryGetValue(id, out var e) && e.Workspace == workspace ? e : null);
        }
    }

    public Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string? workspace, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<WebhookEndpoint>>([.. _endpoints.Values.Where(e => workspace is null || e.Workspace == workspace)]);
        }
    }

    public Task<bool> UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        lock (_lock)
        {
            if (!_endpoints.TryGetValue(endpoint.Id, out var stored) || stored.Workspace != endpoint.Workspace)
            {
                return Task.FromResult(false);
            }

            _endpoints[endpoint.Id] = Normalise(endpoint) with { Cursor = stored.Cursor, CreatedAt = stored.CreatedAt };
            return Task.FromResult(true);
        }
    }

    public Task<bool> DeleteAsync(string workspace, string id, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_endpoints.TryGetValue(id, out var stored) || stored.Workspace != workspace)
            {
                return Task.FromResult(false);
            }

            _endpoints.Remove(id);
            _attempts.Remove(id);
            return Task.FromResult(true);
        }
    }

    public Task<bool> SaveProgressAsync(string id, long expected, long next, IReadOnlyList<WebhookAttempt> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        lock (_lock)
        {
            if (!_endpoints.TryGetValue(id, out var stored))
            {
                return Task.FromResult(false);
            }

            if (!_attempts.TryGetValue(id, out var log))
            {
                _attempts[id] = log = [];
            }

            foreach (var attempt in attempts)
            {
                log.Add(attempt with { Id = ++_nextAttempt, EndpointId = id, At = Milliseconds(attempt.At) });
            }

            if (log.Count > IWebhookStore.AttemptsKept)
            {
                log.RemoveRange(0, log.Count - IWebhookStore.AttemptsKept);
            }

            if (stored.Cursor != expected)
            {
                return Task.FromResult(false);
            }

            _endpoints[id] = stored with { Cursor = next };
            return Task.FromResult(true);
        }
    }

    public Task<bool> SetCursorAsync(string workspace, string id, long cursor, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_endpoints.TryGetValue(id, out var stored) || stored.Workspace != workspace)
            {
                return Task.FromResult(false);
            }

            _endpoints[id] = stored with { Cursor = cursor };
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<WebhookAttempt>> ReadAttemptsAsync(string id, int limit, long? beforeId, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        lock (_lock)
        {
            if (!_attempts.TryGetValue(id, out var log))
            {
                return Task.FromResult<IReadOnlyList<WebhookAttempt>>([]);
            }

            return Task.FromResult<IReadOnlyList<WebhookAttempt>>([.. log.Where(a => beforeId is null || a.Id < beforeId).Reverse().Take(limit)]);
        }
    }

    private static WebhookEndpoint Normalise(WebhookEndpoint e) => e with
    {
        CreatedAt = Milliseconds(e.CreatedAt),
        DisabledAt = e.DisabledAt is { } d ? Milliseconds(d) : null,
        Secrets = [.. e.Secrets.Select(s => s with { CreatedAt = Milliseconds(s.CreatedAt), ExpiresAt = s.ExpiresAt is { } x ? Milliseconds(x) : null })],
    };

    private static DateTimeOffset Milliseconds(DateTimeOffset at) => DateTimeOffset.FromUnixTimeMilliseconds(at.ToUnixTimeMilliseconds());
}
