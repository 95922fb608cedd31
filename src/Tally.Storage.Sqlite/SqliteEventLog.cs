using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tally.Events;

namespace Tally.Storage.Sqlite;

/// <summary>
/// The event log in a SQLite file (WAL). One writer loop owns the write connection: it takes every
/// append request waiting, writes them all in one transaction, and completes them after the commit,
/// so concurrent appends share one fsync (group commit).
/// </summary>
public sealed class SqliteEventLog : IEventLog
{
    // One row per append: the events of one partition's batch, back to back in EventCodec form.
    // Binding a row costs microseconds in the ADO.NET layer; encoding an event costs tens of
    // nanoseconds, so a row per batch rather than per event is what lets one fsync carry 10^5 votes.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS event_batches (
            first_position INTEGER PRIMARY KEY,
            last_position  INTEGER NOT NULL,
            data           BLOB    NOT NULL
        );
        """;

    private readonly SqliteStorageOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<AppendRequest> _requests = Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true });
    private SqliteConnection? _writer;
    private Task? _loop;
    private long _committed;

    public SqliteEventLog(IOptions<SqliteStorageOptions> options)
        : this(options, NullLogger<SqliteEventLog>.Instance)
    {
    }

    public SqliteEventLog(IOptions<SqliteStorageOptions> options, ILogger<SqliteEventLog> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _options = options.Value;
        _logger = logger;
    }

    public long CommittedPosition => Interlocked.Read(ref _committed);

    /// <summary>Group commits done (each one transaction and one fsync).</summary>
    public long Commits { get; private set; }

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null)
        {
            throw new InvalidOperationException("The log is open already.");
        }

        // Files left readable by others (made by an older version, or copied in) become owner-only before use.
        SqliteFiles.CheckWritable(_options.DatabasePath);
        if (SqliteFiles.Tighten(_options.DatabasePath) is { Count: > 0 } tightened)
        {
            SqliteLog.FilesTightened(_logger, string.Join(", ", tightened));
        }

        try
        {
            _writer = await SqliteConnections.OpenAsync(_options, readOnly: false, cancellationToken).ConfigureAwait(false);
            await SqliteConnections.ExecuteAsync(_writer, "PRAGMA journal_mode = WAL;", cancellationToken).ConfigureAwait(false);
            await SqliteConnections.ExecuteAsync(_writer, $"PRAGMA synchronous = {SynchronousMode(_options.Synchronous)};", cancellationToken).ConfigureAwait(false);
            await SqliteConnections.ExecuteAsync(_writer, Schema + SqliteSnapshotStore.Schema, cancellationToken).ConfigureAwait(false);
            using var head = _writer.CreateCommand();
            head.CommandText = "SELECT last_position FROM event_batches ORDER BY first_position DESC LIMIT 1;";
            _committed = await head.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long last ? last : 0;
        }
        catch (SqliteException ex) when (SqliteFiles.Damaged(ex, _options.DatabasePath) is { } damaged)
        {
            throw damaged;
        }

        _loop = Task.Run(WriteLoopAsync, CancellationToken.None);
    }

    public ValueTask<long> AppendAsync(IReadOnlyList<PollEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            throw new ArgumentException("Nothing to append.", nameof(events));
        }

        var request = new AppendRequest(events);
        if (!_requests.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(SqliteEventLog), "The log is closed.");
        }

        return new ValueTask<long>(request.Done.Task);
    }

    public async IAsyncEnumerable<StoredEvent> ReadAsync(long afterPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await SqliteConnections.OpenAsync(_options, readOnly: true, cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT first_position, last_position, data FROM event_batches
            WHERE first_position >= COALESCE((SELECT MAX(first_position) FROM event_batches WHERE first_position <= $after), 0)
            ORDER BY first_position;
            """;
        command.Parameters.AddWithValue("$after", afterPosition);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await NextAsync(reader, cancellationToken).ConfigureAwait(false))
        {
            var position = reader.GetInt64(0);
            var last = reader.GetInt64(1);
            using var events = new BinaryReader(new MemoryStream((byte[])reader.GetValue(2), writable: false), System.Text.Encoding.UTF8);
            for (; position <= last; position++)
            {
                var e = EventCodec.Read(events);
                if (position > afterPosition)
                {
                    yield return new StoredEvent(position, e);
                }
            }
        }
    }

    /// <summary>The next row; a damaged page met while reading (a replay at start, an export) is said as such.</summary>
    private async Task<bool> NextAsync(SqliteDataReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex) when (SqliteFiles.Damaged(ex, _options.DatabasePath) is { } damaged)
        {
            throw damaged;
        }
    }

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        if (_loop is null || _loop.IsCompleted)
        {
            return false;
        }

        try
        {
            await using var connection = await SqliteConnections.OpenAsync(_options, readOnly: true, cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1 FROM event_batches LIMIT 1;";
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _requests.Reader;
        var pending = new List<AppendRequest>();
        using var buffer = new MemoryStream(64 * 1024);
        using var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true);
        using var insert = _writer!.CreateCommand();
        insert.CommandText = "INSERT INTO event_batches (first_position, last_position, data) VALUES ($first, $last, $data);";
        var first = insert.Parameters.Add("$first", SqliteType.Integer);
        var last = insert.Parameters.Add("$last", SqliteType.Integer);
        var data = insert.Parameters.Add("$data", SqliteType.Blob);

        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var request))
            {
                pending.Add(request);
            }

            var next = _committed;
            try
            {
                using (var transaction = _writer.BeginTransaction())
                {
                    insert.Transaction = transaction;
                    foreach (var request in pending)
                    {
                        buffer.SetLength(0);
                        foreach (var e in request.Events)
                        {
                            EventCodec.Write(writer, e);
                        }

                        writer.Flush();
                        request.First = next + 1;
                        next += request.Events.Count;
                        first.Value = request.First;
                        last.Value = next;
                        data.Value = buffer.ToArray();
                        insert.ExecuteNonQuery();
                    }

                    transaction.Commit();
                }

                Interlocked.Exchange(ref _committed, next);
                Commits++;
                foreach (var request in pending)
                {
                    request.Done.TrySetResult(request.First);
                }
            }
            catch (Exception ex)
            {
                // The transaction rolled back (disposed uncommitted): none of these events is in the log.
                foreach (var request in pending)
                {
                    request.Done.TrySetException(ex);
                }
            }
            finally
            {
                insert.Transaction = null;
                pending.Clear();
            }
        }
    }

    public Durability Durability => SynchronousMode(_options.Synchronous) == "NORMAL"
        ? new($"SQLite log {_options.DatabasePath}, synchronous=NORMAL: an acknowledged vote is in the WAL file before its answer but not fsynced; it survives a killed process, not an OS crash or power loss (those can lose the last commits).", AtRisk: true)
        : new($"SQLite log {_options.DatabasePath}, synchronous={SynchronousMode(_options.Synchronous)}: every acknowledged vote is fsynced to the WAL before its answer (one fsync per group commit); it survives a killed process and, on a disk that honours fsync, an OS crash or power loss.", AtRisk: false);

    private static string SynchronousMode(string value) => value.ToUpperInvariant() switch
    {
        "FULL" => "FULL",
        "NORMAL" => "NORMAL",
        "EXTRA" => "EXTRA",
        _ => throw new InvalidOperationException($"Tally:Sqlite:Synchronous is FULL, EXTRA or NORMAL, not \"{value}\"."),
    };

    private sealed class AppendRequest(IReadOnlyList<PollEvent> events)
    {
        public IReadOnlyList<PollEvent> Events { get; } = events;

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long First { get; set; }
    }
}
