using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Tally.Server.Hosting;
using Tally.Server.Http;

namespace Tally.Server.Transports.Grpc;

/// <summary>Registers the gRPC transport: its own HTTP/2 endpoints, the <c>tally.v1.Live</c> service, and the port rule.</summary>
internal static class GrpcSetup
{
    /// <summary>An HTTP/2 connection that received nothing for this long gets a ping.</summary>
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(30);

    /// <summary>A ping unanswered this long closes the connection.</summary>
    public static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Largest request message taken, in bytes. The largest valid <c>VoteRequest</c> (a 64-character poll id,
    /// 50 option ids, a voter id and an idempotency key of 128 characters) is under 1.5 KiB; a larger
    /// message is refused before it is parsed (RESOURCE_EXHAUSTED, gRPC's code for it).
    /// </summary>
    public const int MaxReceiveMessageBytes = 4 * 1024;

    /// <summary>The log category of gRPC's per-call handling (Grpc.AspNetCore).</summary>
    public const string ServerCallHandlerCategory = "Grpc.AspNetCore.Server.ServerCallHandler";

    /// <summary>
    /// Makes the server listen on the main URLs and on <c>TALLY_GRPC_URLS</c> (see <see cref="ServerListeners"/>),
    /// and adds gRPC's services.
    /// </summary>
    public static void AddGrpcTransport(this WebApplicationBuilder builder, string defaultHttpUrl)
    {
        ServerListeners.Configure(builder, defaultHttpUrl);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A watcher of a quiet poll gets no update for a long time: HTTP/2 pings keep idle connections open
            // through proxies, and find dead peers, whose watches then end. Kestrel's default is no ping.
            kestrel.Limits.Http2.KeepAlivePingDelay = KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = KeepAlivePingTimeout;
        });
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = MaxReceiveMessageBytes);

        // gRPC's call handler logs every refused call at Information, and a request it could not read (not
        // protobuf, over the size limit) with the exception's stack trace: kilobytes of log per few bytes a
        // client sends. Client errors are not the server's to log (as HTTP 4xx are not); its own faults are
        // Warning and above, and still logged. A provider-specific rule in configuration can turn it back on.
        builder.Logging.AddFilter(ServerCallHandlerCategory, LogLevel.Warning);
        builder.Services.AddSingleton<LiveService>(); // stateless: one for every call
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<LiveService>, LiveMethods>());
    }

    /// <summary>
    /// Maps <c>tally.v1.Live</c>. A gRPC port serves gRPC only: any other request there gets a 404 problem
    /// naming the main port. gRPC stays reachable on the main endpoints too, which is what lets it work over
    /// TLS there (HTTP/2 by ALPN); on a cleartext main port gRPC clients cannot get HTTP/2 anyway.
    /// </summary>
    public static void MapGrpcTransport(this WebApplication app)
    {
        app.Use(static (context, next) =>
            !ServerListeners.IsGrpcListener(context) || IsGrpc(context.Request) ? next(context) : NotOnGrpcPortAsync(context));
        app.MapGrpcService<LiveService>();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var logger = app.Services.GetRequiredService<ILogger<LiveService>>();
            foreach (var address in app.Services.GetRequiredService<ServerListeners>().GrpcAddresses)
            {
                LiveLog.GrpcListening(logger, address.ToString().TrimEnd('/'));
            }
        });
    }

    private static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    private static Task NotOnGrpcPortAsync(HttpContext context) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status404NotFound,
            type: Problems.Prefix + "not-found",
            title: "Not found",
            detail: "This port serves gRPC only (tally.v1.Live, see proto/tally/v1/live.proto); the HTTP API is on the main port.")
        .ExecuteAsync(context);
}
