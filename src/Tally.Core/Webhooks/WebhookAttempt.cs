namespace Tally.Webhooks;

/// <summary>
/// One delivery attempt, as the endpoint's delivery log keeps it.
/// </summary>
/// <param name="Id">Given by the store (0 before it is stored); grows with time.</param>
/// <param name="MessageId">The <c>webhook-id</c> header: the same for every attempt and replay of one event.</param>
/// <param name="Position">The event's log position.</param>
/// <param name="Attempt">1 for the first try of this message, then 2, 3, …</param>
/// <param name="Status">The receiver's HTTP status, 0 when there was no answer.</param>
/// <param name="Error">Why it failed, short and with no secret (null on success).</param>
public sealed record WebhookAttempt(
    long Id,
    string EndpointId,
    string MessageId,
    string EventType,
    long Position,
    int Attempt,
    DateTimeOffset At,
    int Status,
    bool Succeeded,
    int DurationMs,
    string? Error = null);
