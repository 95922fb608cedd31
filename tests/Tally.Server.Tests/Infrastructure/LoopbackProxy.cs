using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>
/// A TCP relay on a loopback port in front of the server, so a test can cut the network under a
/// client: <see cref="Drop"/> resets every open connection and refuses new ones until
/// <see cref="Restore"/>. It also keeps what clients sent (request lines and headers), to check
/// what a browser put on the wire.
/// </summary>
public sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly ConcurrentQueue<string> _sent = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile bool _refusing;

    public LoopbackProxy(Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
        _listener.Start();
        BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri BaseAddress { get; }

    /// <summary>Everything clients sent so far, as text.</summary>
    public string Sent => string.Concat(_sent);

    /// <summary>Resets every open connection and refuses new ones: the network is gone.</summary>
    public void Drop()
    {
        _refusing = true;
        foreach (var socket in _open.Keys)
        {
            Reset(socket);
        }
    }

    /// <summary>The network is back.</summary>
    public void Restore() => _refusing = false;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Drop();
        try
        {
            await _accepting.WaitAsync(TestServer.Timeout);
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            if (_refusing)
            {
                Reset(client);
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _open[client] = 0;
        _open[server] = 0;
        try
        {
            await server.ConnectAsync(_target, _stop.Token);
            await Task.WhenAny(PumpAsync(client, server, record: true), PumpAsync(server, client, record: false));
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the connection was dropped, on purpose or by either side
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(server, out _);
            Reset(client);
            Reset(server);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool record)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                if (record)
                {
                    _sent.Enqueue(Encoding.Latin1.GetString(buffer, 0, read));
                }

                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0); // close with RST, as a dead network path ends up
            socket.Close();
        }
        catch (ObjectDisposedException)
        {
        }
        catch (SocketException)
        {
        }
    }
}
