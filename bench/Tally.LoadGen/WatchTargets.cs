namespace Tally.LoadGen;

/// <summary>The servers a watch run can drive: Tally, or a baseline of <c>bench/baselines/</c> (each with its own watcher transport).</summary>
internal static class WatchTargets
{
    public const string Tally = "tally";
    public const string Ceiling = "ceiling";
    public const string SignalR = "signalr";
    public const string SocketIo = "socketio";

    /// <summary>bench/baselines/NodeWsFloor: the ceiling's contract on Node.js and the ws package, frames built once per tick.</summary>
    public const string NodeWs = "nodews";

    /// <summary>The transport a baseline's watchers use; null for Tally (SSE or WebSocket, by <c>--transport</c>).</summary>
    public static string? TransportOf(string target) => target switch
    {
        Ceiling or NodeWs => WatchTransports.CeilingWebSocket,
        SignalR => WatchTransports.SignalR,
        SocketIo => WatchTransports.SocketIo,
        _ => null,
    };
}
