using Grpc.Core;
using Tally.Live;
using Tally.Metrics;
using Tally.Polls;
using Tally.Server.Access;
using Tally.Server.Limits;
using Tally.V1;

namespace Tally.Server.Transports.Grpc;

/// <summary>
/// <c>tally.v1.Live</c>: <c>Watch</c> streams a poll's results through <see cref="ReadAdmission"/> and the hub;
/// <c>Vote</c> casts a ballot through <see cref="VoteAdmission"/>. The credential is the call's <c>authorization</c>
/// metadata (<c>Bearer …</c>), as over HTTP.
/// </summary>
internal sealed class LiveService(LiveHub hub, VoteAdmission votes, ReadAdmission reads, StreamGuard guard, ConnectionLimits connections, ILogger<LiveService> logger)
{
    private static readonly KeyValuePair<string, object?> Transport = TallyMetrics.Transport("grpc");

    public async Task WatchAsync(WatchRequest request, IServerStreamWriter<byte[]> stream, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.PollId))
        {
            throw GrpcErrors.Invalid("poll_id is required.");
        }

        if (request.HasSinceSeq && request.SinceSeq < 0)
        {
            throw GrpcErrors.Invalid("since_seq is a seq from a previous update: zero or more.");
        }

        var visitor = await VisitorAsync(context);
        if ((await reads.ReadAsync(visitor, request.PollId, Reading.Watch, context.CancellationToken)).Rejection is { } refused)
        {
            throw GrpcErrors.From(refused); // NOT_FOUND, UNAUTHENTICATED / PERMISSION_DENIED, or UNAVAILABLE while a cluster partition has no owner
        }

        // Streams per address (Tally:Connections:MaxStreamsPerIp), counted until the call ends.
        using var opened = connections.TryOpenStream(context.GetHttpContext().Connection.RemoteIpAddress) ?? throw GrpcErrors.TooManyStreams(connections.MaxStreamsPerIp);
        var connection = new GrpcConnection(stream, hub.Options);
        if (!hub.Subscribe(connection, request.PollId, request.HasSinceSeq ? request.SinceSeq : null))
        {
            throw GrpcErrors.PollNotFound(request.PollId); // before any update: a trailers-only answer
        }

        // When access changes and this credential may no longer read the poll, the call ends with the refusal's status.
        Rejection? revoked = null;
        using var guarded = guard.Track(visitor, Authenticator.CredentialOf(context.GetHttpContext().Request, out _), request.PollId, refusal =>
        {
            Volatile.Write(ref revoked, refusal);
            connection.Complete();
        });
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, hub.Closing);
        hub.Metrics.ConnectionOpened(Transport);
        try
        {
            await connection.RunAsync(ending.Token);
            if (Volatile.Read(ref revoked) is { } refusal)
            {
                throw GrpcErrors.From(refusal);
            }
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

        var outcome = await votes.CastAsync(
            await VisitorAsync(context),
            new Ballot(
                request.PollId,
                request.OptionIds.Count == 0 && (request.HasValue || request.HasText || request.HasUpvote) ? null : [.. request.OptionIds],
                NullIfEmpty(request.VoterId),
                NullIfEmpty(request.InviteCode),
                NullIfEmpty(request.IdempotencyKey),
                request.HasValue ? request.Value : null,
                request.HasText ? request.Text : null,
                request.HasUpvote ? request.Upvote : null),
            context.CancellationToken);
        if (outcome.Rejection is { } rejection)
        {
            throw GrpcErrors.From(rejection);
        }

        return new VoteReply
        {
            VoteId = outcome.VoteId,
            Seq = outcome.Seq,
            Status = outcome.Status == Tally.Engine.VoteStatus.Changed ? V1.VoteStatus.Changed : V1.VoteStatus.Counted,
        };
    }

    /// <summary>Who calls: the <c>authorization</c> metadata, checked as an HTTP request's header is; a bad credential ends the call UNAUTHENTICATED.</summary>
    private static async ValueTask<Visitor> VisitorAsync(ServerCallContext context)
    {
        var visitor = await HttpAccess.VisitorAsync(context.GetHttpContext(), "grpc");
        return visitor.Value ?? throw GrpcErrors.From(visitor.Rejection!);
    }

    /// <summary>proto3 strings have no null: empty means "not given".</summary>
    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
