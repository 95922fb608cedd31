namespace Tally.Server.Access;

/// <summary>Log messages of credentials and admission (EventIds 1100–1199). Never a secret, key or token.</summary>
internal static partial class AccessLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "The access store is not reachable; cached keys and workspaces are used until it is: {Reason}")]
    public static partial void StoreUnreachable(ILogger logger, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Credentials ready: {Workspaces} workspace(s); token signing and invite keys loaded")]
    public static partial void Ready(ILogger logger, int workspaces);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "The JWKS of issuer {Issuer} could not be fetched: {Reason}")]
    public static partial void JwksUnavailable(ILogger logger, string issuer, string reason);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "{Actor} {Action} {Target} in workspace {Workspace}")]
    public static partial void Audited(ILogger logger, string actor, string action, string? target, string workspace);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Information, Message = "A {Transport} stream of poll {PollId} was ended: its credential no longer allows it ({Reason})")]
    public static partial void StreamEnded(ILogger logger, string transport, string pollId, string reason);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "An audit entry could not be stored ({Action} {Target} by {Actor}): {Reason}")]
    public static partial void AuditFailed(ILogger logger, string action, string? target, string actor, string reason);
}
