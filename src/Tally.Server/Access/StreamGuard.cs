using System.Collections.Concurrent;
using Tally.Polls;

namespace Tally.Server.Access;

/// <summary>
/// Keeps open streams honest when access changes. A stream opened with a credential (SSE, a WebSocket subscription,
/// gRPC Watch) is registered here; whenever the access store's version moves on this node (a key revoked, a
/// workspace's JWT settings or origins replaced: <see cref="AccessDirectory.Changed"/>), every registered stream's
/// credential is checked again and its poll's rights with it, and a stream that may no longer read is ended with
/// the refusal (401, 403 or 404, as a new request would get). Streams opened without a credential read public polls
/// only and are not registered.
/// </summary>
internal sealed class StreamGuard
{
    private readonly ConcurrentDictionary<long, Entry> _streams = new();
    private readonly Authenticator _authenticator;
    private readonly ReadAdmission _reads;
    private readonly ILogger _logger;
    private long _next;
    private int _pending;

    public StreamGuard(AccessDirectory directory, Authenticator authenticator, ReadAdmission reads, ILogger<StreamGuard> logger)
    {
        _authenticator = authenticator;
        _reads = reads;
        _logger = logger;
        directory.Changed += OnChanged;
    }

    /// <summary>Streams registered now.</summary>
    public int Count => _streams.Count;

    /// <summary>Completes when the current recheck (if any) has run; for tests.</summary>
    public Task Idle { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Registers a stream of <paramref name="pollId"/> opened by <paramref name="visitor"/> with <paramref name="credential"/>;
    /// <paramref name="end"/> ends it with a refusal (called at most once, on the thread pool). Dispose when the stream ends.
    /// Returns null (nothing to watch) when there is no credential.
    /// </summary>
    public IDisposable? Track(Visitor visitor, string? credential, string pollId, Action<Rejection> end)
    {
        if (credential is null)
        {
            return null;
        }

        var id = Interlocked.Increment(ref _next);
        _streams[id] = new Entry(visitor, credential, pollId, end);
        return new Registration(this, id);
    }

    private void OnChanged()
    {
        // One recheck at a time; changes during one make it run once more after it.
        if (Interlocked.Increment(ref _pending) == 1)
        {
            Idle = Task.Run(RecheckAsync);
        }
    }

    private async Task RecheckAsync()
    {
        do
        {
            Volatile.Write(ref _pending, 1);
            foreach (var (id, entry) in _streams)
            {
                try
                {
                    var caller = await _authenticator.AuthenticateAsync(entry.Credential, CancellationToken.None).ConfigureAwait(false);
                    var refused = caller.Value is { } known
                        ? await _reads.RecheckAsync(entry.Visitor.As(known), entry.PollId, CancellationToken.None).ConfigureAwait(false)
                        : caller.Rejection!.Kind == RejectionKind.Unavailable ? null : caller.Rejection;
                    if (refused is not null && _streams.TryRemove(id, out _))
                    {
                        AccessLog.StreamEnded(_logger, entry.Visitor.Transport, entry.PollId, refused.Kind.ToString());
                        entry.End(refused);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    AccessLog.StoreUnreachable(_logger, ex.Message); // keep the stream: it can be checked at the next change
                }
            }
        }
        while (Interlocked.Decrement(ref _pending) > 0);
    }

    private sealed record Entry(Visitor Visitor, string Credential, string PollId, Action<Rejection> End);

    private sealed class Registration(StreamGuard guard, long id) : IDisposable
    {
        public void Dispose() => guard._streams.TryRemove(id, out _);
    }
}
