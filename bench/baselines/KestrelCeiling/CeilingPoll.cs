using System.Net.WebSockets;
using System.Text.Json;

namespace KestrelCeiling;

/// <summary>
/// One poll of the ceiling: counts under a lock, and the sockets that watch it. New sockets wait in a joining list
/// until the broadcaster's next tick, which sends them the current results; so only the broadcaster ever sends on a socket.
/// </summary>
internal sealed class CeilingPoll(string id, int options)
{
    private readonly Lock _gate = new();
    private readonly long[] _counts = new long[options + 1];
    private long _seq = 1;
    private long _total;
    private long _sentSeq = 1;
    private WebSocket[] _sockets = [];
    private List<WebSocket> _joining = [];
    private readonly List<WebSocket> _leaving = [];

    public string Id { get; } = id;

    /// <summary>Counts one ballot; returns the poll's new seq, or -1 when an option is unknown.</summary>
    public long Vote(int[]? optionIds)
    {
        if (optionIds is null || optionIds.Length == 0 || optionIds.Any(o => o < 1 || o >= _counts.Length))
        {
            return -1;
        }

        lock (_gate)
        {
            foreach (var option in optionIds)
            {
                _counts[option]++;
            }

            _total++;
            return ++_seq;
        }
    }

    public ResultsMessage Results()
    {
        lock (_gate)
        {
            return new ResultsMessage("results", Id, _seq, _total, [.. _counts.Skip(1).Select((votes, i) => new OptionVotes(i + 1, votes))]);
        }
    }

    /// <summary>Holds the socket until the client closes it: reading is only to see the close (clients send nothing).</summary>
    public async Task WatchAsync(WebSocket socket, CancellationToken aborted)
    {
        lock (_gate)
        {
            _joining.Add(socket);
        }

        var buffer = new byte[256];
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var read = await socket.ReceiveAsync(buffer, aborted);
                if (read.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // the client went away
        }
        finally
        {
            lock (_gate)
            {
                _leaving.Add(socket);
            }
        }
    }

    /// <summary>
    /// One tick: when the poll changed, its results encoded once go to every socket; sockets that joined since the last tick
    /// get them either way. Returns the sends that did not complete at once.
    /// </summary>
    public void Tick(List<Task> pending)
    {
        WebSocket[] targets;
        List<WebSocket> joined;
        byte[]? bytes = null;
        lock (_gate)
        {
            if (_leaving.Count > 0)
            {
                _sockets = [.. _sockets.Where(s => !_leaving.Contains(s))];
                _joining.RemoveAll(_leaving.Contains);
                _leaving.Clear();
            }

            joined = _joining;
            var changed = _seq != _sentSeq;
            if (!changed && joined.Count == 0)
            {
                return;
            }

            _joining = [];
            bytes = JsonSerializer.SerializeToUtf8Bytes(new ResultsMessage("results", Id, _seq, _total, [.. _counts.Skip(1).Select((votes, i) => new OptionVotes(i + 1, votes))]), CeilingJsonContext.Default.ResultsMessage);
            _sentSeq = _seq;
            targets = changed ? _sockets : [];
            if (joined.Count > 0)
            {
                _sockets = [.. _sockets, .. joined];
            }
        }

        foreach (var socket in targets)
        {
            Send(socket, bytes, pending);
        }

        foreach (var socket in joined)
        {
            Send(socket, bytes, pending);
        }
    }

    private static void Send(WebSocket socket, byte[] bytes, List<Task> pending)
    {
        if (socket.State != WebSocketState.Open)
        {
            return;
        }

        var send = socket.SendAsync(bytes.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        if (!send.IsCompletedSuccessfully)
        {
            pending.Add(send.AsTask());
        }
    }
}
