using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
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
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS events (
            position INTEGER PRIMARY KEY,
            poll_id  TEXT    NOT NULL,
            seq      INTEGER NOT NULL,
            type     INTEGER NOT NULL,
            at       INTEGER NOT NULL,
            data     BLOB    NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS events_poll_seq ON events (poll_id, seq);
        """;

    private readonly SqliteStorageOptions _options;
    private readonly Channel<AppendRequest> _requests = Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true });
    private SqliteConnection? _writer;
    private Task? _loop;
    private long _committed;

    public SqliteEventLog(IOptions<SqliteStorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
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

        Directory.CreateDirectory(Path.GetDirectoryName(_options.DatabasePath)!);
        _writer = await SqliteConnections.OpenAsync(_options, readOnly: false, cancellationToken).ConfigureAwait(false);
        await SqliteConnections.ExecuteAsync(_writer, "PRAGMA journal_mode = WAL;", cancellationToken).ConfigureAwait(false);
        await SqliteConnections.ExecuteAsync(_writer, $"PRAGMA synchronous = {SynchronousMode(_options.Synchronous)};", cancellationToken).ConfigureAwait(false);
        await SqliteConnections.ExecuteAsync(_writer, Schema + SqliteSnapshotStore.Schema, cancellationToken).ConfigureAwait(false);
        using (var head = _writer.CreateCommand())
        {
            head.CommandText = "SELECT COALESCE(MAX(position), 0) FROM events;";
            _committed = (long)(await head.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
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
        command.CommandText = "SELECT position, data FROM events WHERE position > $after ORDER BY position;";
        command.Parameters.AddWithValue("$after", afterPosition);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new StoredEvent(reader.GetInt64(0), EventCodec.Decode((byte[])reader.GetValue(1)));
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
            command.CommandText = "SELECT 1 FROM events LIMIT 1;";
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
        using var insert = _writer!.CreateCommand();
        insert.CommandText = "INSERT INTO events (position, poll_id, seq, type, at, data) VALUES ($position, $poll, $seq, $type, $at, $data);";
        var position = insert.Parameters.Add("$position", SqliteType.Integer);
        var poll = insert.Parameters.Add("$poll", SqliteType.Text);
        var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
        var type = insert.Parameters.Add("$type", SqliteType.Integer);
        var at = insert.Parameters.Add("$at", SqliteType.Integer);
        var data = insert.Parameters.Add("$data", SqliteType.Blob);
        insert.Prepare();

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
                        request.First = next + 1;
                        foreach (var e in request.Events)
                        {
                            position.Value = ++next;
                            poll.Value = e.PollId;
                            seq.Value = e.Seq;
                            type.Value = (int)EventCodec.TypeOf(e);
                            at.Value = e.At.ToUnixTimeMilliseconds();
                            data.Value = EventCodec.Encode(e);
                            insert.ExecuteNonQuery();
                        }
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
