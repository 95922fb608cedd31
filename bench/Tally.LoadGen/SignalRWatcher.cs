using System.Diagnostics;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Tally.LoadGen;

/// <summary>
/// A watcher of the SignalR baseline with the official client (<c>Microsoft.AspNetCore.SignalR.Client</c>, JSON protocol,
/// WebSockets, no negotiate round trip, its socket made on the load generator's handler): calls <c>Subscribe(pollId)</c> and takes each <c>results</c> message the hub sends.
/// The receive time is taken when the client hands the decoded message over.
/// </summary>
internal sealed class SignalRWatcher(HttpMessageInvoker invoker, Uri baseUrl, string pollId) : Watcher(pollId)
{
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HubConnection? _connection;

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        _connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseUrl, "/hubs/results"), HttpTransportType.WebSockets, o =>
            {
                o.SkipNegotiation = true;

                // The socket goes through the load generator's handler, so it is bound to the run's source addresses too.
                o.WebSocketFactory = async (context, token) =>
                {
                    var socket = new System.Net.WebSockets.ClientWebSocket();
                    try
                    {
                        await socket.ConnectAsync(context.Uri, invoker, token);
                        return socket;
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
            })
            .Build();
        _connection.On<BaselineResults>("results", m =>
        {
            var receivedAt = Stopwatch.GetTimestamp();
            OnResults(m.Seq, m.TotalVotes, m.Options.Select(o => (o.Id, o.Votes)), receivedAt);
        });
        _connection.Closed += ex =>
        {
            _closed.TrySetException(new IOException("The hub connection closed" + (ex is null ? "." : ": " + ex.Message), ex));
            return Task.CompletedTask;
        };
        await _connection.StartAsync(cancellationToken);
        await _connection.InvokeAsync("Subscribe", PollId, cancellationToken);
    }

    protected override Task ReadAsync(CancellationToken cancellationToken) => _closed.Task.WaitAsync(cancellationToken);

    protected override async ValueTask CloseAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
