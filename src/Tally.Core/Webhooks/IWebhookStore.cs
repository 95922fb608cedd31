namespace Tally.Webhooks;

/// <summary>
/// The port for webhook endpoints, their cursors and delivery logs. Embedded mode keeps them in SQLite, cluster mode in
/// PostgreSQL. Times are kept to the millisecond and read back in UTC. <c>WebhookStoreSpecification</c> (tests) is the
/// full contract.
/// </summary>
public interface IWebhookStore
{
    /// <summary>The number of attempts the delivery log keeps per endpoint (the oldest go first).</summary>
    public const int AttemptsKept = 1000;

    /// <summary>Creates the schema when it is missing. Called once at start.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>Adds an endpoint with its cursor; false (and nothing stored) when its id is taken.</summary>
    Task<bool> CreateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>The workspace's endpoint <paramref name="id"/>, with its cursor.</summary>
    Task<WebhookEndpoint?> FindAsync(string workspace, string id, CancellationToken cancellationToken);

    /// <summary>A workspace's endpoints, or every workspace's when <paramref name="workspace"/> is null, in id order.</summary>
    Task<IReadOnlyList<WebhookEndpoint>> ListAsync(string? workspace, CancellationToken cancellationToken);

    /// <summary>Replaces what can change (url, types, description, secrets, enabled state); the cursor and creation time stay. False: no such endpoint.</summary>
    Task<bool> UpdateAsync(WebhookEndpoint endpoint, CancellationToken cancellationToken);

    /// <summary>Deletes the endpoint and its delivery log. False: no such endpoint.</summary>
    Task<bool> DeleteAsync(string workspace, string id, CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="attempts"/> in the delivery log and moves the cursor from <paramref name="expected"/> to
    /// <paramref name="next"/>, in one transaction. The attempts are kept even when the cursor is no longer at
    /// <paramref name="expected"/> (it was set by <see cref="SetCursorAsync"/> meanwhile, or the endpoint is gone); the
    /// answer is then false and the cursor stays where it is.
    /// </summary>
    Task<bool> SaveProgressAsync(string id, long expected, long next, IReadOnlyList<WebhookAttempt> attempts, CancellationToken cancellationToken);

    /// <summary>Sets the cursor (a replay). False: no such endpoint.</summary>
    Task<bool> SetCursorAsync(string workspace, string id, long cursor, CancellationToken cancellationToken);

    /// <summary>The endpoint's attempts, newest first: at most <paramref name="limit"/>, with ids below <paramref name="beforeId"/> when given.</summary>
    Task<IReadOnlyList<WebhookAttempt>> ReadAttemptsAsync(string id, int limit, long? beforeId, CancellationToken cancellationToken);
}
