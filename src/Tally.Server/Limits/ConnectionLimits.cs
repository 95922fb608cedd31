using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Tally.Metrics;

namespace Tally.Server.Limits;

/// <summary>
/// Counts what each client address has open on this node — live streams, and TCP connections — and the node's TCP
/// connections all together, against <see cref="ConnectionLimitOptions"/>. Counts live in memory per node (in cluster
/// mode each node caps on its own); an address with nothing open takes no memory.
/// </summary>
internal sealed class ConnectionLimits(IOptions<ConnectionLimitOptions> options, TrustedProxies proxies, TallyMetrics metrics)
{
    private readonly Counts _streams = new();
    private readonly Counts _connections = new();
    private readonly int _maxStreams = options.Value.MaxStreamsPerIp;
    private readonly int _maxConnections = options.Value.MaxConnectionsPerIp;
    private readonly (long? Cap, string Why) _cap = ResolveCap(options.Value, OpenFileLimit.Current());
    private long _open;

    public int MaxStreamsPerIp => _maxStreams;

    /// <summary>The node's cap on connections in force (null: none) and why, as the start-up log says it.</summary>
    public (long? Cap, string Why) ConnectionCap => _cap;

    /// <summary>A stream for <paramref name="address"/>, to dispose when it ends; null when the address has its cap open already.</summary>
    public Opened? TryOpenStream(IPAddress? address)
    {
        if (_maxStreams == 0)
        {
            return Opened.Uncounted;
        }

        var key = ClientAddress.Key(address);
        if (!_streams.TryEnter(key, _maxStreams))
        {
            metrics.RecordLimitRefused("streams");
            return null;
        }

        return new Opened(_streams, key);
    }

    /// <summary>
    /// Kestrel connection middleware (every listener, before TLS): closes the connection at once when the node holds its
    /// cap of connections already (<see cref="ConnectionLimitOptions.MaxConnections"/>: upgraded ones included, which
    /// Kestrel's own <c>MaxConcurrentConnections</c> stops counting), or when its address does; otherwise counts it
    /// until it ends.
    /// </summary>
    public async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (_cap.Cap is not { } cap)
        {
            await OnCountedConnectionAsync(connection, next).ConfigureAwait(false);
            return;
        }

        if (Interlocked.Increment(ref _open) > cap)
        {
            Interlocked.Decrement(ref _open);
            metrics.RecordLimitRefused("server-connections");
            connection.Abort(new ConnectionAbortedException("The server holds as many connections as it may."));
            return;
        }

        try
        {
            await OnCountedConnectionAsync(connection, next).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    /// <summary>The node's cap on connections (null: none) and why, from the settings and the open-file limit.</summary>
    internal static (long? Cap, string Why) ResolveCap(ConnectionLimitOptions settings, long? openFileLimit) => settings.MaxConnections switch
    {
        0 => (null, "Tally:Connections:MaxConnections=0"),
        { } set => (set, "Tally:Connections:MaxConnections"),
        null when openFileLimit is { } limit => (OpenFileLimit.ConnectionCap(limit), $"the open-file limit {limit} less {OpenFileLimit.Reserve(limit)} kept for the server's files; raise the limit for more"),
        null => (null, "the open-file limit could not be read"),
    };

    /// <summary>Connections the node holds now, when it counts them (for tests).</summary>
    internal long OpenConnections => Interlocked.Read(ref _open);

    private async Task OnCountedConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (_maxConnections == 0 || connection.RemoteEndPoint is not IPEndPoint { Address: var address } || proxies.IsTrusted(address))
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var key = ClientAddress.Key(address);
        if (!_connections.TryEnter(key, _maxConnections))
        {
            metrics.RecordLimitRefused("connections");
            connection.Abort(new ConnectionAbortedException("Too many connections from this address."));
            return;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _connections.Leave(key);
        }
    }

    /// <summary>Streams an address has open now (for tests).</summary>
    internal int StreamsOf(IPAddress? address) => _streams.Of(ClientAddress.Key(address));

    /// <summary>TCP connections an address has open now (for tests).</summary>
    internal int ConnectionsOf(IPAddress? address) => _connections.Of(ClientAddress.Key(address));

    /// <summary>One open stream; disposing it (once) gives its place back.</summary>
    internal sealed class Opened : IDisposable
    {
        public static readonly Opened Uncounted = new(null, default);

        private readonly Counts? _counts;
        private readonly UInt128 _key;
        private int _disposed;

        public Opened(Counts? counts, UInt128 key)
        {
            _counts = counts;
            _key = key;
        }

        public void Dispose()
        {
            if (_counts is not null && Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _counts.Leave(_key);
            }
        }
    }

    /// <summary>Open things per address, in shards with a lock each; an address at zero is removed.</summary>
    internal sealed class Counts
    {
        private const int ShardCount = 16;
        private readonly Dictionary<UInt128, int>[] _shards = [.. Enumerable.Range(0, ShardCount).Select(_ => new Dictionary<UInt128, int>())];

        public bool TryEnter(UInt128 key, int max)
        {
            var shard = _shards[ShardOf(key)];
            lock (shard)
            {
                var open = shard.GetValueOrDefault(key);
                if (open >= max)
                {
                    return false;
                }

                shard[key] = open + 1;
                return true;
            }
        }

        public void Leave(UInt128 key)
        {
            var shard = _shards[ShardOf(key)];
            lock (shard)
            {
                var open = shard.GetValueOrDefault(key) - 1;
                if (open <= 0)
                {
                    shard.Remove(key);
                }
                else
                {
                    shard[key] = open;
                }
            }
        }

        /// <summary>Both halves of the key: an IPv6 client's is all in the upper one.</summary>
        private static int ShardOf(UInt128 key) => (int)(((ulong)key ^ (ulong)(key >> 64)) % ShardCount);

        public int Of(UInt128 key)
        {
            var shard = _shards[ShardOf(key)];
            lock (shard)
            {
                return shard.GetValueOrDefault(key);
            }
        }
    }
}
