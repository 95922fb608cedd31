using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Options;
using Tally.Live;
using Tally.Metrics;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Endpoints;
using Tally.Server.Http;
using Tally.Server.Limits;

namespace Tally.Server.Transports.Sse;

/// <summary><c>GET /v1/polls/{id}/events</c>: a snapshot, then deltas, then <c>closed</c>; resume with <c>Last-Event-ID</c> or <c>?since=</c>.</summary>
internal static class SseEndpoints
{
    private static readonly KeyValuePair<string, object?> Transport = TallyMetrics.Transport("sse");

    public static void MapSseEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/polls/{id}/events", WatchAsync)
            .WithTags("Live")
            .Takes(AccessKind.Read)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Watch a poll's results: server-sent events snapshot, delta, closed; id is the seq");

        // An event is a poll of kind "event" whose messages carry its live question and leaderboard: the same stream.
        app.MapGet("/v1/events/{id}/events", WatchAsync)
            .WithTags("Events")
            .Takes(AccessKind.Read)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Follow an event: server-sent events snapshot, delta, closed, each with the live question and the leaderboard's top");
    }

    private static async Task WatchAsync(
        string id, HttpContext context, LiveHub hub, ReadAdmission reads, StreamGuard guard, ConnectionLimits connections, IOptions<LiveOptions> options, ILogger<SseConnection> logger)
    {
        if (PollRules.CheckPollId(id) is { } noSuchPoll)
        {
            await Problems.From(noSuchPoll).ExecuteAsync(context);
            return;
        }

        var since = context.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } header ? header : context.Request.Query["since"].ToString();
        long? from = null;
        if (since.Length > 0)
        {
            if (!long.TryParse(since, NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                await Problems.InvalidQuery("since (or Last-Event-ID) is a seq: a whole number from a previous event's id.").ExecuteAsync(context);
                return;
            }

            from = seq;
        }

        // The credential may come as ?access_token= (EventSource cannot set headers): a watch token for a private poll.
        var visitor = await HttpAccess.VisitorAsync(context, "sse");
        var grant = visitor.Value is { } known ? await reads.ReadAsync(known, id, Reading.Watch, context.RequestAborted) : visitor.Rejection!;
        if (grant.Rejection is { } refused)
        {
            await HttpAccess.Refuse(context.Response, refused).ExecuteAsync(context); // 404, 401/403, or 503 while a cluster partition has no owner
            return;
        }

        // Streams per address (Tally:Connections:MaxStreamsPerIp), counted until the stream ends.
        using var stream = connections.TryOpenStream(context.Connection.RemoteIpAddress);
        if (stream is null)
        {
            await LimitProblems.TooManyStreams(context.Response, connections.MaxStreamsPerIp).ExecuteAsync(context);
            return;
        }

        var response = context.Response;
        var connection = new SseConnection(response, options.Value, options.Value.SseHeartbeat);
        if (!hub.Subscribe(connection, id, from))
        {
            await PollEndpoints.NotFound(id).ExecuteAsync(context);
            return;
        }

        // When access changes (a key revoked…) and this credential may no longer read the poll, the stream ends; the
        // browser's EventSource then reconnects and gets the refusal.
        using var guarded = guard.Track(visitor.Value!, Authenticator.CredentialOf(context.Request, out _), id, _ => connection.Complete());
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, hub.Closing);
        hub.Metrics.ConnectionOpened(Transport);
        try
        {
            await response.StartAsync(ending.Token);
            response.BodyWriter.Write("retry: 1000\n\n"u8); // reconnect after 1 s instead of the browsers' ~3 s
            await connection.RunAsync(ending.Token);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            // the watcher went away, or the server is stopping
        }
        catch (SlowConsumerException ex)
        {
            LiveLog.SlowWatcherClosed(logger, "sse", id, ex.Message);
            hub.Metrics.SlowConsumerClosed(Transport);
            context.Abort();
        }
        finally
        {
            connection.Detach();
            hub.Metrics.ConnectionClosed(Transport);
        }
    }
}
