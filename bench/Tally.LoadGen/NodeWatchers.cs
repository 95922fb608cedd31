using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Tally.LoadGen;

/// <summary>
/// The cheap watcher side (<c>--client node</c>): one Node.js process (<c>bench/watchers/ws-watchers.mjs</c>, the
/// <c>ws</c> package) holds every watcher's WebSocket in one event loop and forwards each text message with its
/// receive time (CLOCK_MONOTONIC, which <see cref="Stopwatch"/> reads on Linux) over its stdout. One pump here reads
/// that pipe in large chunks and hands each message to its <see cref="NodeWatcher"/>, which parses and checks it
/// as every other watcher does. Sockets cost this process nothing; a message costs it a line's parse.
/// </summary>
internal sealed class NodeWatchers : IDisposable
{
    private readonly Process _node;
    private readonly ConcurrentDictionary<int, NodeWatcher> _watchers = new();
    private readonly SemaphoreSlim _stdin = new(1, 1);
    private readonly Task _pump;
    private readonly double _ticksPerNanosecond = Stopwatch.Frequency / 1e9;
    private int _next;

    private NodeWatchers(Process node)
    {
        _node = node;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Why the Node process ended, if it did before it was told to.</summary>
    public string? Failure { get; private set; }

    public static NodeWatchers Start()
    {
        var script = FindScript();
        var start = new ProcessStartInfo("node", [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false, // its own errors go to ours
            UseShellExecute = false,
        };
        var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start.");
        node.StandardInput.AutoFlush = true;
        return new NodeWatchers(node);
    }

    /// <summary>The Node process's pid, whose CPU the run reports as the load generator's too.</summary>
    public int Pid => _node.Id;

    public int Register(NodeWatcher watcher)
    {
        var id = Interlocked.Increment(ref _next);
        _watchers[id] = watcher;
        return id;
    }

    public async Task SendAsync(string command, CancellationToken cancellationToken)
    {
        await _stdin.WaitAsync(cancellationToken);
        try
        {
            if (Failure is { } failure)
            {
                throw new IOException("The Node watchers process ended: " + failure);
            }

            await _node.StandardInput.WriteLineAsync(command.AsMemory(), cancellationToken);
        }
        finally
        {
            _stdin.Release();
        }
    }

    public void Dispose()
    {
        try
        {
            _node.StandardInput.WriteLine("exit");
        }
        catch (IOException)
        {
            // already gone
        }

        if (!_node.WaitForExit(5000))
        {
            _node.Kill();
        }

        _pump.Wait(TimeSpan.FromSeconds(5));
        _node.Dispose();
        _stdin.Dispose();
    }

    private async Task PumpAsync()
    {
        var stream = _node.StandardOutput.BaseStream;
        var buffer = new byte[1 << 20];
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    throw new InvalidDataException("A line from the Node watchers is longer than 1 MiB.");
                }

                var read = await stream.ReadAsync(buffer.AsMemory(filled));
                if (read == 0)
                {
                    break;
                }

                filled += read;
                var start = 0;
                while (Array.IndexOf(buffer, (byte)'\n', start, filled - start) is var end and >= 0)
                {
                    Dispatch(buffer.AsSpan(start, end - start));
                    start = end + 1;
                }

                Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
                filled -= start;
            }

            Failure ??= "its output ended";
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or ObjectDisposedException)
        {
            Failure ??= ex.Message;
        }

        foreach (var watcher in _watchers.Values)
        {
            watcher.Ended(Failure ?? "the Node watchers process ended");
        }
    }

    /// <summary>One event line: <c>kind id [rest]</c>.</summary>
    private void Dispatch(ReadOnlySpan<byte> line)
    {
        if (line.Length < 3 || line[1] != (byte)' ')
        {
            return;
        }

        var kind = line[0];
        var rest = line[2..];
        var space = rest.IndexOf((byte)' ');
        var idText = space < 0 ? rest : rest[..space];
        rest = space < 0 ? [] : rest[(space + 1)..];
        if (!int.TryParse(idText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id) || !_watchers.TryGetValue(id, out var watcher))
        {
            return;
        }

        switch (kind)
        {
            case (byte)'m':
                var at = rest.IndexOf((byte)' ');
                if (at > 0 && long.TryParse(rest[..at], NumberStyles.None, CultureInfo.InvariantCulture, out var nanoseconds))
                {
                    var receivedAt = _ticksPerNanosecond == 1 ? nanoseconds : (long)(nanoseconds * _ticksPerNanosecond);
                    watcher.Deliver(rest[(at + 1)..], receivedAt);
                }

                break;
            case (byte)'o':
                watcher.Opened(null);
                break;
            case (byte)'f':
                watcher.Opened(Encoding.UTF8.GetString(rest));
                break;
            case (byte)'e':
                watcher.Ended(Encoding.UTF8.GetString(rest));
                break;
            case (byte)'c':
                watcher.Closed();
                _watchers.TryRemove(id, out _);
                break;
        }
    }

    private static string FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var script = Path.Combine(dir.FullName, "bench", "watchers", "ws-watchers.mjs");
            if (File.Exists(script))
            {
                return Directory.Exists(Path.Combine(dir.FullName, "bench", "watchers", "node_modules", "ws"))
                    ? script
                    : throw new InvalidOperationException("--client node needs the ws package: run `npm ci` in bench/watchers.");
            }
        }

        throw new InvalidOperationException("bench/watchers/ws-watchers.mjs was not found above the load generator's folder.");
    }
}

/// <summary>How a Node watcher talks to its server (see bench/watchers/ws-watchers.mjs), by target transport.</summary>
internal enum NodeProtocol
{
    /// <summary>Tally's <c>/v1/ws</c> (<c>tally.json.v1</c>) or the ceiling's bare broadcaster: every text message is an update.</summary>
    Raw,

    /// <summary>The socket.io baseline: Socket.IO v5 over Engine.IO v4; <c>42["results",{…}]</c> events.</summary>
    EngineIo,

    /// <summary>The SignalR baseline: the JSON hub protocol; <c>results</c> invocations.</summary>
    SignalR,
}

/// <summary>A watcher whose WebSocket lives in the Node watchers process (<see cref="NodeWatchers"/>).</summary>
internal sealed class NodeWatcher : Watcher
{
    private readonly NodeProtocol _protocol;
    private readonly NodeWatchers _node;
    private readonly Uri _url;
    private readonly string? _subprotocol;
    private readonly string? _firstMessage;
    private readonly string? _source;
    private readonly TaskCompletionSource _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _id;

    /// <summary>A watcher of <paramref name="pollId"/> over <paramref name="transport"/> (Tally's ws, or a baseline's own).</summary>
    public NodeWatcher(NodeWatchers node, Uri baseUrl, string pollId, string? source, string transport)
        : base(pollId)
    {
        _node = node;
        _source = source;
        (_protocol, var path, var query, _subprotocol, _firstMessage) = transport switch
        {
            WatchTransports.CeilingWebSocket => (NodeProtocol.Raw, "/ws", "pollId=" + pollId, (string?)null, (string?)null),
            WatchTransports.SocketIo => (NodeProtocol.EngineIo, "/socket.io/", "EIO=4&transport=websocket", null, $$"""42["subscribe","{{pollId}}"]"""),
            WatchTransports.SignalR => (NodeProtocol.SignalR, "/hubs/results", "", null, $$"""{"type":1,"invocationId":"1","target":"Subscribe","arguments":["{{pollId}}"]}"""),
            _ => (NodeProtocol.Raw, "/v1/ws", "", WebSocketWatcher.Subprotocol, $$"""{"op":"subscribe","pollId":"{{pollId}}"}"""),
        };
        _url = new UriBuilder(baseUrl) { Scheme = "ws", Path = path, Query = query }.Uri;
        _id = node.Register(this);
    }

    /// <summary>One forwarded text message: an update (raw), an Engine.IO event <c>42[…]</c>, or a SignalR invocation record.</summary>
    internal void Deliver(ReadOnlySpan<byte> message, long receivedAt)
    {
        switch (_protocol)
        {
            case NodeProtocol.EngineIo:
                OnMessage(EngineIoWatcher.EventObject(message[2..]), receivedAt);
                break;
            case NodeProtocol.SignalR:
                OnMessage(FirstArgument(message), receivedAt);
                break;
            default:
                OnMessage(message, receivedAt);
                break;
        }
    }

    /// <summary>A SignalR invocation's first argument (<c>{"type":1,"target":"results","arguments":[{…}]}</c>), or the whole record when it has none (an anomaly then).</summary>
    private static ReadOnlySpan<byte> FirstArgument(ReadOnlySpan<byte> record)
    {
        var reader = new System.Text.Json.Utf8JsonReader(record);
        while (reader.Read())
        {
            if (reader.TokenType == System.Text.Json.JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("arguments"u8)
                && reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.StartArray
                && reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.StartObject)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                return record[start..(int)reader.BytesConsumed];
            }
        }

        return record;
    }

    internal void Opened(string? failure)
    {
        if (failure is null)
        {
            _opened.TrySetResult();
        }
        else
        {
            _opened.TrySetException(new IOException($"The Node watcher of poll {PollId} did not open: {failure}"));
        }
    }

    internal void Ended(string why)
    {
        _opened.TrySetException(new IOException(why));
        _ended.TrySetException(new IOException(why));
        _closed.TrySetResult();
    }

    internal void Closed()
    {
        _ended.TrySetResult();
        _closed.TrySetResult();
    }

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        var first = _firstMessage is null ? "-" : Convert.ToBase64String(Encoding.UTF8.GetBytes(_firstMessage));
        var protocol = _protocol switch { NodeProtocol.EngineIo => "engineio", NodeProtocol.SignalR => "signalr", _ => "raw" };
        await _node.SendAsync($"open {_id} {_url} {_subprotocol ?? "-"} {_source ?? "-"} {first} {protocol}", cancellationToken);
        await _opened.Task.WaitAsync(cancellationToken);
    }

    protected override Task ReadAsync(CancellationToken cancellationToken) => _ended.Task.WaitAsync(cancellationToken);

    protected override async ValueTask CloseAsync()
    {
        try
        {
            await _node.SendAsync($"close {_id}", CancellationToken.None);
            await _closed.Task.WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (Exception ex) when (ex is IOException or TimeoutException)
        {
            // the connection is going away either way
        }
    }
}
