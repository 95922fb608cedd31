using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Tally.Events;
using Tally.Storage;

namespace Tally.Cluster.EventLog;

/// <summary>
/// The event log on one subject of a JetStream stream (file storage). One writer loop takes every append
/// waiting and publishes them as one message when they fit (group commit; a message per batch, not per
/// event). An append completes only after JetStream acked the message. Positions are per subject, from 1,
/// contiguous. Opening takes the subject over (a marker message), fencing any writer opened before. Every publish carries <c>Nats-Expected-Last-Subject-Sequence</c>, so once another writer has
/// appended to the subject this instance is fenced and can never append again, and a <c>Nats-Msg-Id</c>
/// unique to this writer and position, so a publish retried after a lost ack is stored once.
/// </summary>
public sealed class JetStreamEventLog : IEventLog
{
    /// <summary>JetStream's error code for a failed <c>Nats-Expected-Last-Subject-Sequence</c> check.</summary>
    private const int WrongLastSequence = 10071;

    /// <summary>JetStream's error code for "no message found".</summary>
    private const int NoMessageFound = 10037;

    /// <summary>Room kept under the server's max payload for the protocol headers of a publish.</summary>
    private const int HeaderRoom = 1024;

    private readonly INatsConnection _nats;
    private readonly NatsJSContext _js;
    private readonly JetStreamLogOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<AppendRequest> _requests = Channel.CreateUnbounded<AppendRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closing = new();
    private readonly Guid _writer = Guid.NewGuid();
    private INatsJSStream? _stream;
    private Task? _loop;
    private long _committed;
    private ulong _lastSubjectSequence;
    private volatile EventLogFencedException? _fenced;

    public JetStreamEventLog(INatsConnection nats, JetStreamLogOptions options, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        ArgumentNullException.ThrowIfNull(nats);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _nats = nats;
        _js = new NatsJSContext(nats);
        _options = options;
    }

    public long CommittedPosition => Interlocked.Read(ref _committed);

    /// <summary>The stream sequence of the last message on the subject this instance knows of (0: none).</summary>
    public ulong LastSubjectSequence => Volatile.Read(ref _lastSubjectSequence);

    /// <summary>Messages published (group commits).</summary>
    public long Commits { get; private set; }

    /// <summary>True once another writer appended to the subject: every later append fails.</summary>
    public bool IsFenced => _fenced is not null;

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("The log is open already.");
        }

        _stream = await EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
        using var opening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        for (var attempt = 1; ; attempt++)
        {
            if (await GetMessageAsync(new StreamMsgGetRequest { LastBySubj = _options.Subject }, cancellationToken).ConfigureAwait(false) is { } last)
            {
                _committed = BatchMessage.LastPosition(last.Data.Span);
                _lastSubjectSequence = last.Seq;
            }

            // Take the subject over: a marker message (no events) moves the subject's last sequence, so a writer
            // that opened before this one is fenced from now on, and what this instance reads next is final.
            var marker = new byte[BatchMessage.HeaderSize];
            BatchMessage.WriteHeader(marker, _writer, _committed + 1, 0);
            if (await TryPublishAsync(marker, "open", opening.Token).ConfigureAwait(false) is { } sequence)
            {
                _lastSubjectSequence = sequence;
                break;
            }

            if (attempt == 10)
            {
                throw new EventLogFencedException($"Other writers kept appending to {_options.Subject} while this log opened.");
            }
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

        if (_fenced is { } fenced)
        {
            return ValueTask.FromException<long>(fenced);
        }

        var request = new AppendRequest(events);
        if (!_requests.Writer.TryWrite(request))
        {
            throw new ObjectDisposedException(nameof(JetStreamEventLog), "The log is closed.");
        }

        return new ValueTask<long>(request.Done.Task);
    }

    /// <summary>
    /// Opens the log for <see cref="ReadAsync"/> only: unlike <see cref="OpenAsync"/> it publishes no marker, so the
    /// subject's writer is not fenced, and this instance cannot append (an append fails).
    /// </summary>
    public async Task OpenForReadingAsync(CancellationToken cancellationToken)
    {
        if (_loop is not null || _stream is not null)
        {
            throw new InvalidOperationException("The log is open already.");
        }

        _fenced = new EventLogFencedException($"This instance reads {_options.Subject} only; it does not append.");
        _stream = await EnsureStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<StoredEvent> ReadAsync(long afterPosition, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = _stream ?? throw new InvalidOperationException("The log is not open.");
        if (await GetMessageAsync(new StreamMsgGetRequest { LastBySubj = _options.Subject }, cancellationToken).ConfigureAwait(false) is not { } last
            || BatchMessage.LastPosition(last.Data.Span) <= afterPosition)
        {
            yield break;
        }

        var start = await FindStartAsync(afterPosition, last.Seq, cancellationToken).ConfigureAwait(false);
        // An ephemeral consumer of this subject alone. (NATS.Net's ordered consumer sends filter_subjects,
        // which servers before 2.10 ignore; the single filter_subject works on 2.9 and later.)
        var name = "read-" + Guid.NewGuid().ToString("N");
        var consumer = await stream.CreateOrUpdateConsumerAsync(
            new ConsumerConfig(name)
            {
                FilterSubject = _options.Subject,
                DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                OptStartSeq = start,
                AckPolicy = ConsumerConfigAckPolicy.None,
                InactiveThreshold = TimeSpan.FromMinutes(1),
                MemStorage = true,
                NumReplicas = 1,
            },
            cancellationToken).ConfigureAwait(false);
        var expected = afterPosition + 1;
        try
        {
            await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (message.Subject != _options.Subject)
                {
                    throw new InvalidDataException($"A consumer filtered on {_options.Subject} delivered a message of {message.Subject}.");
                }

                foreach (var e in BatchMessage.Read(message.Data, afterPosition))
                {
                    // Positions on a subject have no holes (a batch takes the next ones only once it is stored), so a
                    // hole is lost data (a message removed, a stream limit): refuse to rebuild a state that skips it.
                    if (e.Position != expected)
                    {
                        throw new InvalidDataException($"The log {_options.Subject} has no event at position {expected} (the next is at {e.Position}); refusing to replay past missing events.");
                    }

                    expected++;
                    yield return e;
                }

                if (message.Metadata?.Sequence.Stream is not { } seq || seq >= last.Seq)
                {
                    yield break; // everything that was durable when the read began
                }
            }
        }
        finally
        {
            await DeleteConsumerAsync(stream, name).ConfigureAwait(false);
        }
    }

    private static async Task DeleteConsumerAsync(INatsJSStream stream, string name)
    {
        try
        {
            await stream.DeleteConsumerAsync(name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NatsException)
        {
            // The server drops it after its inactive threshold anyway.
        }
    }

    public async Task<bool> IsHealthyAsync(CancellationToken cancellationToken)
    {
        if (_stream is null || _loop is null || _loop.IsCompleted || _fenced is not null || _nats.ConnectionState != NatsConnectionState.Open)
        {
            return false;
        }

        try
        {
            await _stream.RefreshAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (NatsException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        if (_loop is not null)
        {
            // What is queued is still published; a publish that cannot finish is given up when the log closes.
            var finished = await Task.WhenAny(_loop, Task.Delay(_options.AttemptTimeout * 2)).ConfigureAwait(false);
            if (finished != _loop)
            {
                await _closing.CancelAsync().ConfigureAwait(false);
                await _loop.ConfigureAwait(false);
            }
        }

        _closing.Dispose();
    }

    private Task<INatsJSStream> EnsureStreamAsync(CancellationToken cancellationToken) =>
        EnsureStreamAsync(_js, _options.StreamName, _options.SubjectPrefix, _options.Replicas, _options.DuplicateWindow, cancellationToken);

    /// <summary>The stream (file storage, direct get, every subject under the prefix), created when missing.</summary>
    internal static async Task<INatsJSStream> EnsureStreamAsync(INatsJSContext js, string name, string subjectPrefix, int replicas, TimeSpan duplicateWindow, CancellationToken cancellationToken)
    {
        try
        {
            return await js.GetStreamAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
        }

        var config = new StreamConfig(name, [subjectPrefix + ".>"])
        {
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            NumReplicas = replicas,
            DuplicateWindow = duplicateWindow,
            AllowDirect = true,
        };
        try
        {
            return await js.CreateStreamAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10058)
        {
            // Another node created it first.
            return await js.GetStreamAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A message by the stream's get API, or null when there is none.</summary>
    private async Task<StoredMessage?> GetMessageAsync(StreamMsgGetRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _stream!.GetAsync(request, cancellationToken).ConfigureAwait(false);
            return response.Message;
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == NoMessageFound || ex.Error.Code == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// The stream sequence to read from so the first message is the one holding position
    /// <paramref name="afterPosition"/> + 1: a binary search over the subject's messages by their last position.
    /// </summary>
    private async Task<ulong> FindStartAsync(long afterPosition, ulong lastSequence, CancellationToken cancellationToken)
    {
        if (afterPosition <= 0)
        {
            return 1;
        }

        ulong lo = 1, hi = lastSequence;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            var next = await GetMessageAsync(new StreamMsgGetRequest { Seq = mid, NextBySubj = _options.Subject }, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidDataException($"No message on {_options.Subject} at or after sequence {mid}, though {lastSequence} is on it.");
            if (BatchMessage.LastPosition(next.Data.Span) > afterPosition)
            {
                hi = mid;
            }
            else
            {
                lo = next.Seq + 1;
            }
        }

        return lo;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _requests.Reader;
        var pending = new List<AppendRequest>();
        using var buffer = new MemoryStream(64 * 1024);
        using var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var request))
            {
                pending.Add(request);
            }

            var limit = Math.Max(64 * 1024, (_nats.ServerInfo?.MaxPayload ?? 1024 * 1024) - HeaderRoom);
            var at = 0;
            while (at < pending.Count)
            {
                // One message for as many waiting appends as fit under the server's max payload.
                buffer.SetLength(BatchMessage.HeaderSize);
                buffer.Position = BatchMessage.HeaderSize;
                var taken = new List<AppendRequest>();
                var count = 0;
                for (; at < pending.Count; at++)
                {
                    var mark = buffer.Length;
                    foreach (var e in pending[at].Events)
                    {
                        EventCodec.Write(writer, e);
                    }

                    writer.Flush();
                    if (buffer.Length > limit)
                    {
                        buffer.SetLength(mark);
                        buffer.Position = mark;
                        if (taken.Count == 0)
                        {
                            pending[at].Done.TrySetException(new InvalidOperationException(
                                $"{pending[at].Events.Count} events take more than the {limit} bytes one NATS message may hold; append fewer at a time (Tally:Engine:MaxBatch)."));
                            at++;
                        }

                        break;
                    }

                    taken.Add(pending[at]);
                    count += pending[at].Events.Count;
                }

                if (taken.Count > 0)
                {
                    await CommitAsync(buffer, taken, count).ConfigureAwait(false);
                }
            }

            pending.Clear();
        }
    }

    /// <summary>Publishes one message and completes its appends: with their positions, or with why nothing of them is in the log.</summary>
    private async Task CommitAsync(MemoryStream buffer, List<AppendRequest> taken, int count)
    {
        var first = _committed + 1;
        BatchMessage.WriteHeader(buffer.GetBuffer().AsSpan(0, BatchMessage.HeaderSize), _writer, first, count);
        var payload = buffer.ToArray();
        try
        {
            if (_fenced is { } fenced)
            {
                throw fenced;
            }

            var sequence = await PublishAsync(payload, first).ConfigureAwait(false);
            Volatile.Write(ref _lastSubjectSequence, sequence);
            Interlocked.Exchange(ref _committed, first + count - 1);
            Commits++;
            var next = first;
            foreach (var request in taken)
            {
                request.Done.TrySetResult(next);
                next += request.Events.Count;
            }
        }
        catch (EarlierAppendStoredException ex)
        {
            // This batch is not stored, and must not be: the subject holds an append this log reported failed. Take the
            // subject's end as it is (so positions and message ids move on), and fail the batch: the engine reads the
            // log back, counts what was stored, and decides again.
            Exception failure = ex;
            try
            {
                await AdoptSubjectEndAsync().ConfigureAwait(false);
            }
            catch (Exception adopt)
            {
                failure = adopt;
            }

            foreach (var request in taken)
            {
                request.Done.TrySetException(failure);
            }
        }
        catch (Exception ex)
        {
            foreach (var request in taken)
            {
                request.Done.TrySetException(ex);
            }
        }
    }

    /// <summary>After <see cref="EarlierAppendStoredException"/>: the subject's last message is this writer's, so its position and sequence become this log's; another writer's fences it.</summary>
    private async Task AdoptSubjectEndAsync()
    {
        if (await GetMessageAsync(new StreamMsgGetRequest { LastBySubj = _options.Subject }, _closing.Token).ConfigureAwait(false) is not { } last)
        {
            return;
        }

        if (BatchMessage.ReadHeader(last.Data.Span).Writer != _writer)
        {
            throw Fence(_lastSubjectSequence);
        }

        Volatile.Write(ref _lastSubjectSequence, last.Seq);
        Interlocked.Exchange(ref _committed, BatchMessage.LastPosition(last.Data.Span));
    }

    /// <summary>Publishes a batch; throws <see cref="EventLogFencedException"/> (and fences this instance) when another writer appended first.</summary>
    private async Task<ulong> PublishAsync(byte[] payload, long first)
    {
        var expected = _lastSubjectSequence;
        if (await TryPublishAsync(payload, first.ToString(System.Globalization.CultureInfo.InvariantCulture), _closing.Token).ConfigureAwait(false) is { } sequence)
        {
            return sequence;
        }

        throw Fence(expected);
    }

    /// <summary>Fences this instance: another writer appended to the subject after <paramref name="after"/>; the exception to throw.</summary>
    private EventLogFencedException Fence(ulong after)
    {
        var fenced = new EventLogFencedException($"Another writer appended to {_options.Subject} after sequence {after}; this log instance may not append any more.");
        _fenced = fenced;
        return fenced;
    }

    /// <summary>
    /// Publishes after <see cref="LastSubjectSequence"/> until JetStream gives a definite answer: the stream
    /// sequence when stored (an ack, a duplicate ack, or this writer's message found right after the expected
    /// sequence when the ack was lost), null when another writer's message is there, or an exception for an
    /// API error (nothing stored). Timeouts and a lost connection are retried with the same message id.
    /// </summary>
    private async Task<ulong?> TryPublishAsync(byte[] payload, string id, CancellationToken cancellationToken)
    {
        var expected = _lastSubjectSequence;
        var opts = new NatsJSPubOpts
        {
            MsgId = $"{_writer:N}:{id}",
            ExpectedLastSubjectSequence = expected,
            RetryAttempts = 1,
        };
        var backoff = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(_options.AttemptTimeout);
                var ack = await _js.PublishAsync(_options.Subject, payload, opts: opts, cancellationToken: attempt.Token).ConfigureAwait(false);
                if (ack.Error is { } error)
                {
                    throw new NatsJSApiException(error);
                }

                if (ack.Duplicate
                    && await GetMessageAsync(new StreamMsgGetRequest { Seq = ack.Seq }, cancellationToken).ConfigureAwait(false) is { } stored
                    && !stored.Data.Span.SequenceEqual(payload))
                {
                    // Same message id, other content: an earlier append of this writer that was reported failed is stored.
                    throw new EarlierAppendStoredException(ack.Seq);
                }

                return ack.Seq; // a duplicate too: this message, stored by an attempt whose ack was lost
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode == WrongLastSequence)
            {
                // The subject moved past the expected sequence: this writer's own message (its ack was lost), an earlier
                // append of this writer reported failed but stored after all, or another writer's.
                var next = await GetMessageAsync(new StreamMsgGetRequest { Seq = expected + 1, NextBySubj = _options.Subject }, cancellationToken).ConfigureAwait(false);
                if (next is null || BatchMessage.ReadHeader(next.Data.Span).Writer != _writer)
                {
                    return null;
                }

                return next.Data.Span.SequenceEqual(payload) ? next.Seq : throw new EarlierAppendStoredException(next.Seq);
            }
            catch (NatsJSApiException)
            {
                throw; // a definite refusal: nothing was stored
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // No answer: maybe stored, maybe not. The same message id makes the retry safe.
                ClusterLog.PublishRetried(_logger, _options.Subject, ex.GetType().Name, ex.Message);
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
            }
        }
    }

    private sealed class AppendRequest(IReadOnlyList<PollEvent> events)
    {
        public IReadOnlyList<PollEvent> Events { get; } = events;

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>
/// A publish found the subject holding an earlier append of this writer that had been reported failed (stored after
/// all: same position, other content). Nothing of the current batch is stored; read the log back and decide again.
/// </summary>
public sealed class EarlierAppendStoredException(ulong sequence)
    : IOException($"An earlier append reported as failed is stored in the stream after all (sequence {sequence}); nothing of this batch was stored. Read the log back and decide again.")
{
    public ulong Sequence => sequence;
}
