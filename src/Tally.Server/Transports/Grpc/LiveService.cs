using Grpc.Core;
using Tally.Server.Http;
using Tally.Engine;
using Tally.Live;
using Tally.Metrics;
using Tally.Polls;
using Tally.V1;

namespace Tally.Server.Transports.Grpc;

/// <summary><c>tally.v1.Live</c>: <c>Watch</c> streams a poll's results through the hub; <c>Vote</c> casts a ballot through the engine.</summary>
internal sealed class LiveService(LiveHub hub, ITallyEngine engine, VoteLimits limits, ILogger<LiveService> logger)
{
    private static readonly KeyValuePair<string, object?> Transport = TallyMetrics.Transport("grpc");

    public async Task WatchAsync(WatchRequest request, IServerStreamWriter<byte[]> stream, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.PollId))
        {
            throw GrpcErrors.Invalid("poll_id is required.");
        }

        if (PollRules.CheckPollId(request.PollId) is { } noSuchPoll)
        {
            throw GrpcErrors.From(noSuchPoll); // before anything else repeats it: the id goes in grpc-message, a header
        }

        if (request.HasSinceSeq && request.SinceSeq < 0)
        {
            throw GrpcErrors.Invalid("since_seq is a seq from a previous update: zero or more.");
        }

        if ((await engine.WatchAsync(request.PollId, context.CancellationToken)).Rejection is { Kind: not RejectionKind.UnknownPoll } refused)
        {
            throw GrpcErrors.From(refused); // a cluster partition without an owner: retry
        }

        var connection = new GrpcConnection(stream, hub.Options);
        if (!hub.Subscribe(connection, request.PollId, request.HasSinceSeq ? request.SinceSeq : null))
        {
            throw GrpcErrors.PollNotFound(request.PollId); // before any update: a trailers-only answer
        }

        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, hub.Closing);
        hub.Metrics.ConnectionOpened(Transport);
        try
        {
            await connection.RunAsync(ending.Token);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            if (!context.CancellationToken.IsCancellationRequested)
            {
                throw GrpcErrors.ShuttingDown(); // the watcher is still there: tell it to come back and resume
            }

            // else the watcher cancelled the call or its deadline passed: nobody to answer
        }
        catch (SlowConsumerException ex)
        {
            LiveLog.SlowWatcherClosed(logger, "grpc", request.PollId, ex.Message);
            hub.Metrics.SlowConsumerClosed(Transport);
            context.GetHttpContext().Abort(); // a stuck stream cannot take a status either: reset it
        }
        finally
        {
            connection.Detach();
            hub.Metrics.ConnectionClosed(Transport);
        }
    }

    public async Task<VoteReply> VoteAsync(VoteRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.PollId))
        {
            throw GrpcErrors.Invalid("poll_id is required.");
        }

        if (PollRules.CheckPollId(request.PollId) is { } noSuchPoll)
        {
            throw GrpcErrors.From(noSuchPoll);
        }

        if (await limits.CheckAsync(context.GetHttpContext().Connection.RemoteIpAddress, 1, context.CancellationToken) is { } limited)
        {
            var refused = GrpcErrors.From(limited.Rejection);
            refused.Trailers.Add(GrpcErrors.RetryPushbackTrailer, (limited.RetryAfterSeconds * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture));
            throw refused;
        }

        var outcome = await engine.CastVoteAsync(new CastVote(
            request.PollId,
            [.. request.OptionIds],
            NullIfEmpty(request.VoterId),
            NullIfEmpty(request.IdempotencyKey)));
        if (outcome.Rejection is { } rejection)
        {
            throw GrpcErrors.From(rejection);
        }

        return new VoteReply
        {
            VoteId = outcome.VoteId,
            Seq = outcome.Seq,
            Status = outcome.Status == Engine.VoteStatus.Changed ? V1.VoteStatus.Changed : V1.VoteStatus.Counted,
        };
    }

    /// <summary>proto3 strings have no null: empty means "not given".</summary>
    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
