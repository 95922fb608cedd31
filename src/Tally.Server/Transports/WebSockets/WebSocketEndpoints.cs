using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tally.Live;
using Tally.Server.Access;
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
        services.AddOptions<WebSocketTransportOptions>().BindConfiguration("Tally:WebSockets").ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebSocketTransportOptions>, WebSocketTransportOptionsValidation>());
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
        IOptions<WebSocketTransportOptions> options,
        ILogger<WebSocketSession> logger,
        SocketAdmission admission,
        AccessDirectory directory)
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

        // Who opens the socket: its credential (a header, or ?access_token= since browsers cannot set headers on a
        // WebSocket), checked now, so a bad one is a 401 rather than a socket that refuses every op.
        var caller = await admission.Authenticator.AuthenticateAsync(context);
        if (caller.Rejection is { } unauthenticated)
        {
            await HttpAccess.Refuse(context.Response, unauthenticated).ExecuteAsync(context);
            return;
        }

        // A browser page of another site (cross-site WebSocket hijacking) may open a socket only when some workspace
        // allows its origin; each op then checks the origin against its poll's workspace.
        var crossOrigin = CrossOrigin(context.Request);
        if (crossOrigin is not null && !await AllowedAnywhereAsync(directory, crossOrigin, context.RequestAborted))
        {
            await Problem(StatusCodes.Status403Forbidden, "forbidden", "The credential does not allow this",
                $"Pages of {Contracts.ContractMapping.Clip(crossOrigin)} may not open this WebSocket: no workspace lists that origin in its allowedOrigins.").ExecuteAsync(context);
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
        var visitor = new Visitor(caller.Value!, context.Connection.RemoteIpAddress, HttpAccess.VoterCookieOf(context.Request), crossOrigin, "websocket");
        await new WebSocketSession(socket, protocol, hub, settings, logger, visitor, admission).RunAsync();
    }

    /// <summary>The request's <c>Origin</c> when it is another than the server's own (scheme and host); null for same-origin requests and clients that send none.</summary>
    internal static string? CrossOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }

        var own = $"{request.Scheme}://{request.Host.Value}";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) ? null : WorkspaceRules.Normalize(origin) ?? origin;
    }

    private static async ValueTask<bool> AllowedAnywhereAsync(AccessDirectory directory, string origin, CancellationToken cancellationToken)
    {
        foreach (var workspace in await directory.ListWorkspacesAsync(cancellationToken))
        {
            if (OriginPolicy.Contains(workspace.Settings.AllowedOrigins, origin))
            {
                return true;
            }
        }

        return false;
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
