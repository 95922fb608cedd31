namespace Tally.Server.Transports;

/// <summary>The encoding slots of <see cref="Live.LiveMessage.GetEncoded"/>: one per wire format, each encoded once per message.</summary>
internal static class LiveFormats
{
    public const int Sse = 0;
    public const int WebSocketJson = 1;
    public const int WebSocketMessagePack = 2;
    public const int Grpc = 3;
}
