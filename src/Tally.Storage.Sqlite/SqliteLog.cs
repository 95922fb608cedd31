using Microsoft.Extensions.Logging;

namespace Tally.Storage.Sqlite;

/// <summary>The SQLite adapter's log messages. EventIds are fixed and never reused.</summary>
internal static partial class SqliteLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "The database's files {Files} could be read or written by other users; they are now owner-only (0600)")]
    public static partial void FilesTightened(ILogger logger, string files);
}
