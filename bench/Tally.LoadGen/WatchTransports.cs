namespace Tally.LoadGen;

/// <summary>How watchers connect: Tally's SSE or WebSocket, or a baseline's own (<see cref="WatchTargets"/>).</summary>
internal static class WatchTransports
{
    public const string Sse = "sse";
    public const string WebSocket = "ws";
    public const string SignalR = "signalr";
    /// <summary>Socket.IO v5 over Engine.IO v4 on a ClientWebSocket (<see cref="EngineIoWatcher"/>).</summary>
    public const string SocketIo = "socketio";

    /// <summary>Socket.IO with the <c>SocketIOClient</c> package (<see cref="SocketIoWatcher"/>): kept to show why it is not the default.</summary>
    public const string SocketIoLibrary = "socketio-lib";

    /// <summary>The ceiling's bare broadcaster: a plain WebSocket, <c>GET /ws?pollId=</c>.</summary>
    public const string CeilingWebSocket = "ceiling-ws";
}

/// <summary>What reads the WebSocket watchers' sockets: this process's ClientWebSockets, or one Node.js process (<see cref="NodeWatchers"/>).</summary>
internal static class WatchClients
{
    public const string DotNet = "dotnet";
    public const string Node = "node";
}
