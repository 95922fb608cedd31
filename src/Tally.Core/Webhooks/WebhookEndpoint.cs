namespace Tally.Webhooks;

/// <summary>
/// A workspace's webhook endpoint: where to send, which event types, the secrets that sign, whether it is enabled,
/// and <see cref="Cursor"/>, the log position of the last event it has been given (delivered, or not one of its
/// types). Delivery resumes after the cursor, so the log itself is the outbox.
/// </summary>
public sealed record WebhookEndpoint(
    string Id,
    string Workspace,
    string Url,
    WebhookEvents Events,
    IReadOnlyList<WebhookSecret> Secrets,
    DateTimeOffset CreatedAt,
    string? Description = null,
    WebhookVoters Voters = WebhookVoters.Hashed,
    bool Enabled = true,
    string? DisabledReason = null,
    DateTimeOffset? DisabledAt = null,
    long Cursor = 0);
