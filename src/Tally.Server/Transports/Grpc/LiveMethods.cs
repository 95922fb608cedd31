using System.Text;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Tally.V1;

namespace Tally.Server.Transports.Grpc;

/// <summary>
/// Binds <c>tally.v1.Live</c>'s methods to <see cref="LiveService"/>. Written by hand rather than generated
/// so that <c>Watch</c>'s responses can be bytes: each <see cref="ResultsUpdate"/> is serialized once per
/// live message (<see cref="GrpcUpdates.Encode"/>) and the same bytes go to every watcher. On the wire it
/// is the contract's <c>ResultsUpdate</c>; a test checks these names against the proto's descriptor.
/// </summary>
internal sealed class LiveMethods : IServiceMethodProvider<LiveService>
{
    public const string ServiceName = "tally.v1.Live";

    public static readonly Method<WatchRequest, byte[]> Watch = new(
        MethodType.ServerStreaming, ServiceName, "Watch", For(WatchRequest.Parser), PreEncoded());

    public static readonly Method<VoteRequest, VoteReply> Vote = new(
        MethodType.Unary, ServiceName, "Vote", For(VoteRequest.Parser), For(VoteReply.Parser));

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<LiveService> context)
    {
        context.AddServerStreamingMethod(Watch, [], static (service, request, stream, call) => service.WatchAsync(request, stream, call));
        context.AddUnaryMethod(Vote, [], static (service, request, call) => service.VoteAsync(request, call));
    }

    /// <summary>
    /// A protobuf message, serialized straight into the call's buffer (as generated code does). A request
    /// that is not a valid message is the client's error, INVALID_ARGUMENT, not a fault of the handler
    /// (which gRPC would answer UNKNOWN and log with its stack trace).
    /// </summary>
    private static Marshaller<T> For<T>(MessageParser<T> parser)
        where T : IMessage<T>, IBufferMessage =>
        Marshallers.Create<T>(
            static (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context =>
            {
                try
                {
                    return parser.ParseFrom(context.PayloadAsReadOnlySequence());
                }
                catch (Exception ex) when (ex is InvalidProtocolBufferException or DecoderFallbackException)
                {
                    throw GrpcErrors.Malformed("tally.v1." + typeof(T).Name);
                }
            });

    /// <summary>A message that is already serialized: the bytes are written as they are.</summary>
    private static Marshaller<byte[]> PreEncoded() =>
        Marshallers.Create<byte[]>(static (bytes, context) => context.Complete(bytes), static context => context.PayloadAsNewBuffer());
}
