using System.Diagnostics;
using SocketIOClient;

namespace Tally.LoadGen;

/// <summary>
/// A watcher of the socket.io baseline with the <c>SocketIOClient</c> package (Engine.IO v4, websocket transport only, no
/// reconnection): emits <c>subscribe</c> with the poll id and takes each <c>results</c> event of the poll's room.
/// The receive time is taken when the client hands the event over.
/// </summary>
internal sealed class SocketIoWatcher(Uri baseUrl, string pollId) : Watcher(pollId)
{
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SocketIOClient.SocketIO? _client;

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        _client = new SocketIOClient.SocketIO(baseUrl, new SocketIOOptions
        {
            Transport = SocketIOClient.Transport.TransportProtocol.WebSocket,
            AutoUpgrade = false,
            Reconnection = false,
            ConnectionTimeout = TimeSpan.FromSeconds(10),
        });
        _client.On("results", response =>
        {
            var receivedAt = Stopwatch.GetTimestamp();
            var m = response.GetValue<BaselineResults>();
            OnResults(m.Seq, m.TotalVotes, m.Options.Select(o => (o.Id, o.Votes)), receivedAt);
        });
        _client.OnDisconnected += (_, reason) => _closed.TrySetException(new IOException("socket.io disconnected: " + reason));
        await _client.ConnectAsync().WaitAsync(cancellationToken);
        await _client.EmitAsync("subscribe", PollId).WaitAsync(cancellationToken);
    }

    protected override Task ReadAsync(CancellationToken cancellationToken) => _closed.Task.WaitAsync(cancellationToken);

    protected override async ValueTask CloseAsync()
    {
        if (_client is not null)
        {
            try
            {
                await _client.DisconnectAsync().WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception ex) when (ex is TimeoutException or System.Net.WebSockets.WebSocketException or InvalidOperationException)
            {
                // the connection is going away either way
            }

            _client.Dispose();
        }
    }
}
