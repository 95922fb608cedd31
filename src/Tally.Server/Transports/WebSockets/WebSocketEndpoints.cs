using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Tally.Engine;
using Tally.Live;
using Tally.Server.Http;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// <c>GET /v1/ws</c>: one WebSocket watching many polls, and voting. The subprotocol is
/// <c>tally.json.v1</c> or <c>tally.msgpack.v1</c>; a client that offers none gets JSON. docs/live/websocket.md
/// is the client's guide.
/// </summary>
internal static class WebSocketEndpoints
{
    public const string Path = "/v1/ws";

    public static IServiceCollection AddWebSocketTransport(this IServiceCollection services)
    {
        services.AddOptions<WebSocketTransportOptions>().BindConfiguration("Tally:WebSockets")
            .Validate(o => { o.Validate(); return true; })
            .ValidateOnStart();
        return services;
    }

    /// <summary>Adds the WebSocket middleware (keep-alive is set per socket at accept) and maps <c>/v1/ws</c>.</summary>
    public static void MapWebSocketEndpoints(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet(Path, AcceptAsync)
            .WithTags("Live")
            .Produces(StatusCodes.Status101SwitchingProtocols)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("Watch many polls and vote over one WebSocket (subprotocols tally.json.v1, tally.msgpack.v1)");

        // WebSockets over HTTP/2 (RFC 8441, used by browsers on TLS endpoints) arrive as CONNECT.
        app.MapMethods(Path, [HttpMethods.Connect], AcceptAsync).ExcludeFromDescription();
    }

    private static async Task AcceptAsync(
        HttpContext context,
        LiveHub hub,
        ITallyEngine engine,
        IOptions<WebSocketTransportOptions> options,
        ILogger<WebSocketSession> logger)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problem(
                StatusCodes.Status400BadRequest,
                "websocket-required",
                "This endpoint takes only WebSocket requests",
                $"Open a WebSocket to {Path} with the subprotocol {Supported()}; see docs/live/websocket.md.").ExecuteAsync(context);
            return;
        }

        var requested = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = requested.Count == 0 ? WebSocketProtocol.Json : Choose(requested);
        if (protocol is null)
        {
            await Problem(
                StatusCodes.Status400BadRequest,
                "unsupported-subprotocol",
                "None of the offered subprotocols is supported",
                $"This endpoint speaks {Supported()}; offer one of them in Sec-WebSocket-Protocol (or none for JSON).").ExecuteAsync(context);
            return;
        }

        if (hub.Closing.IsCancellationRequested)
        {
            await Problem(StatusCodes.Status503ServiceUnavailable, "unavailable", "The server cannot take this now", "The server is shutting down.").ExecuteAsync(context);
            return;
        }

        var settings = options.Value;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = requested.Count == 0 ? null : protocol.Name,
            KeepAliveInterval = settings.KeepAliveInterval,
            KeepAliveTimeout = settings.KeepAliveTimeout,

            // permessage-deflate is used only when the client offers it. Without server context takeover the
            // deflater lives for one message, so an idle compressed socket holds no zlib state (~256 KB).
            DangerousEnableCompression = true,
            DisableServerContextTakeover = true,
        });
        var limits = context.RequestServices.GetRequiredService<VoteLimits>();
        var client = context.Connection.RemoteIpAddress;
        await new WebSocketSession(socket, protocol, hub, engine, settings, logger, votes => limits.CheckAsync(client, votes, CancellationToken.None)).RunAsync();
    }

    /// <summary>The first subprotocol in the client's order that the server speaks.</summary>
    private static WebSocketProtocol? Choose(IList<string> requested)
    {
        foreach (var name in requested)
        {
            if (WebSocketProtocol.Find(name) is { } protocol)
            {
                return protocol;
            }
        }

        return null;
    }

    private static string Supported() => string.Join(" or ", WebSocketProtocol.All.Select(p => p.Name));

    private static ProblemHttpResult Problem(int status, string slug, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Type = Problems.Prefix + slug, Title = title, Detail = detail });
}
