using System.Net;
using System.Net.Sockets;

namespace Tally.LoadGen;

/// <summary>
/// Makes watchers of one transport, all on one <see cref="SocketsHttpHandler"/> (a connection each).
/// With several source addresses each new socket is bound to the next of 127.0.0.1 … 127.0.0.N before
/// it connects, so the watchers are not limited to one address's ~28k ephemeral ports.
/// </summary>
internal sealed class WatcherFactory : IDisposable
{
    private readonly SocketsHttpHandler _handler;
    private readonly HttpClient _client;
    private readonly Uri _baseUrl;
    private readonly string _transport;
    private readonly IPAddress[] _sources;
    private int _next;

    public WatcherFactory(Uri baseUrl, string transport, int sourceAddresses)
    {
        _baseUrl = baseUrl;
        _transport = transport;
        _sources = [.. Enumerable.Range(1, sourceAddresses).Select(i => new IPAddress([127, 0, 0, (byte)i]))];
        _handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan }; // a stream lasts the run; runs are bounded by tokens
    }

    /// <summary>A watcher of <paramref name="pollId"/>. Only the SocketIOClient package opens its own sockets (no source-address binding).</summary>
    public Watcher Create(string pollId) => _transport switch
    {
        WatchTransports.WebSocket => new WebSocketWatcher(_client, _baseUrl, pollId),
        WatchTransports.CeilingWebSocket => new WebSocketWatcher(_client, _baseUrl, pollId, ceiling: true),
        WatchTransports.SignalR => new SignalRWatcher(_client, _baseUrl, pollId),
        WatchTransports.SocketIo => new EngineIoWatcher(_client, _baseUrl, pollId),
        WatchTransports.SocketIoLibrary => new SocketIoWatcher(_baseUrl, pollId),
        _ => new SseWatcher(_client, _baseUrl, pollId),
    };

    public void Dispose()
    {
        _client.Dispose();
        _handler.Dispose();
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var address = host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host.Trim('[', ']'));
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (_sources.Length > 1 && address.AddressFamily == AddressFamily.InterNetwork)
            {
                var source = _sources[(int)((uint)Interlocked.Increment(ref _next) % (uint)_sources.Length)];
                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
