using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>
/// The log lines of a <see cref="TestServer"/> that pass the server's own filters (its appsettings.json,
/// the test's settings, the rules in code): pass <see cref="Configure"/> as <c>TestServer.StartAsync</c>'s
/// <c>configure</c>, and <see cref="ProductionLevels"/> as its settings to see what production would log.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    /// <summary>The server's default level, Information, instead of the tests' Warning; the rest from appsettings.json.</summary>
    public static IReadOnlyDictionary<string, string> ProductionLevels { get; } = new Dictionary<string, string>
    {
        ["Logging:LogLevel:Default"] = "Information",
    };

    public IReadOnlyList<Entry> Entries => [.. _entries];

    public void Configure(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.AddProvider(this);
    }

    /// <summary>Forgets what was captured so far.</summary>
    public void Clear() => _entries.Clear();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    /// <summary>One line: its text, and the text of its exception (message and stack trace) when it has one.</summary>
    public sealed record Entry(string Category, LogLevel Level, EventId EventId, string Message, string? Exception)
    {
        public int Length => Message.Length + (Exception?.Length ?? 0);

        public override string ToString() => $"{Level} {Category}[{EventId.Id}] {Message}{(Exception is null ? "" : "\n" + Exception)}";
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, eventId, formatter(state, exception), exception?.ToString()));
    }
}
