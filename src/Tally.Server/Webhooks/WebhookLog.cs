namespace Tally.Server.Webhooks;

/// <summary>Webhook delivery's log messages. EventIds are fixed and never reused. No secret and no payload is ever logged.</summary>
internal static partial class WebhookLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Webhook endpoint {Endpoint} delivers from log position {Cursor}")]
    public static partial void Delivering(ILogger logger, string endpoint, long cursor);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Webhook endpoint {Endpoint}: attempt {Attempt} of {MessageId} failed ({Status}, {Error}); next in {DelayMs} ms")]
    public static partial void AttemptFailed(ILogger logger, string endpoint, int attempt, string messageId, int status, string error, long delayMs);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Webhook endpoint {Endpoint} disabled: {Reason}")]
    public static partial void Disabled(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Error, Message = "Webhook endpoint {Endpoint}: delivery stopped by a fault; starting again from its cursor")]
    public static partial void Faulted(ILogger logger, string endpoint, Exception exception);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Error, Message = "Webhook dispatcher: reading the endpoints failed; trying again")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);
}
