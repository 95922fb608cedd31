namespace Tally.Server.Hosting;

/// <summary>The server's log messages. EventIds are fixed and never reused.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Recovered {Polls} polls; replayed {Events} events after the snapshot in {Milliseconds} ms")]
    public static partial void Recovered(ILogger logger, int polls, long events, long milliseconds);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Engine stopped: queued votes answered, final snapshot written")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Engine fault in {Where}")]
    public static partial void EngineFault(ILogger logger, string where, Exception exception);

    // 1003 (the admin key itself, printed at start) is retired: a key never goes to the log.

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Admin key ({Source}) is in {Path} (SHA-256 fingerprint {Fingerprint}); set TALLY_ADMIN_KEY to choose one")]
    public static partial void AdminKeyKept(ILogger logger, string source, string path, string fingerprint);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "Durability: {Statement}")]
    public static partial void Durability(ILogger logger, string statement);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "Durability: {Statement}")]
    public static partial void DurabilityAtRisk(ILogger logger, string statement);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "Data folder: {DataPath}")]
    public static partial void DataFolder(ILogger logger, string dataPath);
}
