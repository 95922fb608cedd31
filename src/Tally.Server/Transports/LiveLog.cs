namespace Tally.Server.Transports;

/// <summary>
/// Log messages of the live transports. EventIds are fixed and never reused. The only client values in
/// them are poll ids of polls that exist (a watcher's), which passed <c>PollRules.CheckPollId</c> first:
/// at most 64 ASCII letters and digits, nothing that can forge a line.
/// </summary>
internal static partial class LiveLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Warning, Message = "Closed a slow {Transport} watcher of poll {PollId}: {Reason}")]
    public static partial void SlowWatcherClosed(ILogger logger, string transport, string pollId, string reason);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Error, Message = "Live fault in {Where}")]
    public static partial void LiveFault(ILogger logger, string where, Exception exception);

    [LoggerMessage(EventId = 2100, Level = LogLevel.Error, Message = "A WebSocket session failed; closing it with 1011")]
    public static partial void WebSocketFault(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Closing a WebSocket with {Status}: {Reason}")]
    public static partial void WebSocketClosing(ILogger logger, int status, string reason);

    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "gRPC (HTTP/2 only) listening on: {Address}")]
    public static partial void GrpcListening(ILogger logger, string address);
}
