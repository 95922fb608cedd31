using System.Text.Json.Serialization;

namespace Tally.Server.Contracts;

/// <summary>Body of <c>POST /v1/workspaces/{workspace}/webhooks</c>.</summary>
public sealed class CreateWebhookRequest
{
    /// <summary>Where to POST: an absolute https URL (http with <c>Tally:Webhooks:AllowHttp</c>).</summary>
    public string? Url { get; set; }

    /// <summary>Some of <c>vote.counted</c>, <c>vote.changed</c>, <c>vote.erased</c>, <c>poll.created</c>, <c>poll.opened</c>, <c>poll.closed</c>, <c>poll.paused</c>, <c>poll.resumed</c>, <c>event.started</c>, <c>event.ended</c>, <c>question.shown</c>, <c>question.revealed</c>.</summary>
    public List<string?>? EventTypes { get; set; }

    public string? Description { get; set; }

    /// <summary><c>hashed</c> (default), <c>raw</c> or <c>omitted</c>: how votes show the voter.</summary>
    public string? Voters { get; set; }

    /// <summary><c>now</c> (default): events from now on; <c>start</c>: every event the log holds.</summary>
    public string? From { get; set; }
}

/// <summary>Body of <c>PATCH /v1/workspaces/{workspace}/webhooks/{id}</c>: the fields given change.</summary>
public sealed class UpdateWebhookRequest
{
    public string? Url { get; set; }

    public List<string?>? EventTypes { get; set; }

    public string? Description { get; set; }

    public string? Voters { get; set; }
}

/// <summary>Body of <c>POST …/webhooks/{id}/replay</c>: deliver again every event after this log position (0: from the start).</summary>
public sealed class ReplayWebhookRequest
{
    public long? AfterPosition { get; set; }
}

public sealed record WebhookSecretResponse(DateTimeOffset CreatedAt, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? ExpiresAt);

public sealed record WebhookResponse(
    string Id,
    string Workspace,
    string Url,
    IReadOnlyList<string> EventTypes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    string Voters,
    bool Enabled,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DisabledReason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? DisabledAt,
    long Cursor,
    DateTimeOffset CreatedAt,
    IReadOnlyList<WebhookSecretResponse> Secrets);

/// <summary>A new or rotated endpoint: <see cref="Secret"/> is shown this once.</summary>
public sealed record WebhookWithSecretResponse(string Secret, WebhookResponse Webhook);

public sealed record WebhookListResponse(IReadOnlyList<WebhookResponse> Items);

public sealed record WebhookAttemptResponse(
    long Id,
    string MessageId,
    string EventType,
    long Position,
    int Attempt,
    DateTimeOffset At,
    int Status,
    bool Succeeded,
    int DurationMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

public sealed record WebhookAttemptListResponse(IReadOnlyList<WebhookAttemptResponse> Items, string? NextCursor);
