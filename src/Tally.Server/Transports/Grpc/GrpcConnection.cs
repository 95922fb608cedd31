using Grpc.Core;
using Tally.Live;

namespace Tally.Server.Transports.Grpc;

/// <summary>
/// One <c>Watch</c> call: writes each live message as a <c>ResultsUpdate</c>, serialized once per message
/// and shared by every watcher. The closed update is the last: the connection completes after it.
/// </summary>
internal sealed class GrpcConnection(IServerStreamWriter<byte[]> stream, LiveOptions options) : LiveConnection(options)
{
    protected override async ValueTask WriteAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        // grpc-dotnet flushes each message as it writes it.
        await stream.WriteAsync(message.GetEncoded(LiveFormats.Grpc, GrpcUpdates.Encode), cancellationToken);
        if (message.Kind == LiveMessageKind.Closed)
        {
            Complete(); // nothing follows "closed": RunAsync returns and the call ends with OK
        }
    }
}
