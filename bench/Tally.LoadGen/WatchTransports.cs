namespace Tally.LoadGen;

internal static class WatchTransports
{
    public const string Sse = "sse";
    public const string WebSocket = "ws";
}
