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

    private readonly NodeWatchers? _node;

    /// <summary>With <paramref name="client"/> <c>node</c>, WebSocket watchers live in one Node.js process (<see cref="NodeWatchers"/>).</summary>
    public WatcherFactory(Uri baseUrl, string transport, int sourceAddresses, string client = WatchClients.DotNet)
    {
        _node = client == WatchClients.Node ? NodeWatchers.Start() : null;
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
        WatchTransports.WebSocket or WatchTransports.CeilingWebSocket or WatchTransports.SocketIo or WatchTransports.SignalR when _node is not null =>
            new NodeWatcher(_node, _baseUrl, pollId, _sources.Length > 1 ? NextSource().ToString() : null, _transport),
        WatchTransports.WebSocket => new WebSocketWatcher(_client, _baseUrl, pollId),
        WatchTransports.CeilingWebSocket => new WebSocketWatcher(_client, _baseUrl, pollId, ceiling: true),
        WatchTransports.SignalR => new SignalRWatcher(_client, _baseUrl, pollId),
        WatchTransports.SocketIo => new EngineIoWatcher(_client, _baseUrl, pollId),
        WatchTransports.SocketIoLibrary => new SocketIoWatcher(_baseUrl, pollId),
        _ => new SseWatcher(_client, _baseUrl, pollId),
    };

    /// <summary>The CPU seconds of the Node watchers process so far (null without one).</summary>
    public Func<double>? HelperCpu => _node is { } node ? () => ProcessStats.CpuSeconds(node.Pid) : null;

    public void Dispose()
    {
        _node?.Dispose();
        _client.Dispose();
        _handler.Dispose();
    }

    private IPAddress NextSource() => _sources[(int)((uint)Interlocked.Increment(ref _next) % (uint)_sources.Length)];

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var address = host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host.Trim('[', ']'));
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (_sources.Length > 1 && address.AddressFamily == AddressFamily.InterNetwork)
            {
                socket.Bind(new IPEndPoint(NextSource(), 0));
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
