using Grpc.Core;
using Tally.Polls;
using Tally.Server.Http;

namespace Tally.Server.Transports.Grpc;

/// <summary>
/// Refusals as gRPC statuses: the code by kind (the table in <c>proto/tally/v1/live.proto</c>), the
/// problem's detail as the message, and its stable type in the <c>tally-problem-type</c> trailer.
/// </summary>
internal static class GrpcErrors
{
    public const string ProblemTypeTrailer = "tally-problem-type";

    /// <summary>gRPC's server pushback trailer: clients with a retry policy wait this many milliseconds.</summary>
    public const string RetryPushbackTrailer = "grpc-retry-pushback-ms";

    public static StatusCode CodeOf(RejectionKind kind) => kind switch
    {
        RejectionKind.Invalid => StatusCode.InvalidArgument,
        RejectionKind.UnknownOption => StatusCode.InvalidArgument,
        RejectionKind.UnknownPoll => StatusCode.NotFound,
        RejectionKind.PollClosed => StatusCode.FailedPrecondition,
        RejectionKind.AlreadyVoted => StatusCode.AlreadyExists,
        RejectionKind.IdempotencyKeyReused => StatusCode.FailedPrecondition,
        RejectionKind.Overloaded => StatusCode.Unavailable,
        RejectionKind.Unavailable or RejectionKind.IdTaken => StatusCode.Unavailable,
        RejectionKind.RateLimited => StatusCode.ResourceExhausted,
        RejectionKind.Unauthorized => StatusCode.Unauthenticated,
        RejectionKind.Forbidden => StatusCode.PermissionDenied,
        RejectionKind.ResultsHidden => StatusCode.PermissionDenied,
        RejectionKind.PollNotOpen => StatusCode.FailedPrecondition,
        RejectionKind.InvalidTransition => StatusCode.FailedPrecondition,
        RejectionKind.NotJoined => StatusCode.FailedPrecondition,
        RejectionKind.NameTaken => StatusCode.AlreadyExists,
        RejectionKind.QuestionLimit => StatusCode.FailedPrecondition,
        RejectionKind.QuestionsFull => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    public static RpcException From(Rejection rejection)
    {
        ArgumentNullException.ThrowIfNull(rejection);
        var code = CodeOf(rejection.Kind);
        var trailers = new Metadata { { ProblemTypeTrailer, Problems.Prefix + Problems.Describe(rejection.Kind).Slug } };
        if (rejection.Kind == RejectionKind.Overloaded)
        {
            trailers.Add(RetryPushbackTrailer, "1000"); // as HTTP's Retry-After: 1
        }
        else if (rejection.RetryAfterSeconds is { } seconds)
        {
            trailers.Add(RetryPushbackTrailer, (seconds * 1000L).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return new RpcException(new Status(code, rejection.Detail), trailers);
    }

    public static RpcException Invalid(string detail) => From(new Rejection(RejectionKind.Invalid, detail));

    /// <summary>
    /// A request that is not a valid protobuf message of its type: INVALID_ARGUMENT with the problem type
    /// <c>invalid-message</c>, as the WebSocket protocols answer an undecodable op. The parser's exception is
    /// left out on purpose (no debug exception, so gRPC logs one line without a stack trace).
    /// </summary>
    public static RpcException Malformed(string messageType) => new(
        new Status(StatusCode.InvalidArgument, $"The request is not a valid {messageType} message (bad protobuf, or a string that is not UTF-8)."),
        new Metadata { { ProblemTypeTrailer, Problems.Prefix + "invalid-message" } });

    public static RpcException PollNotFound(string pollId) => From(PollRules.UnknownPoll(pollId));

    /// <summary>A <c>Watch</c> past the address's cap of live streams: RESOURCE_EXHAUSTED, as HTTP's 429 <c>too-many-connections</c>.</summary>
    public static RpcException TooManyStreams(int max) => new(
        new Status(StatusCode.ResourceExhausted, Limits.LimitProblems.TooManyStreamsDetail(max)),
        new Metadata
        {
            { ProblemTypeTrailer, Problems.Prefix + Limits.LimitProblems.TooManyConnectionsSlug },
            { RetryPushbackTrailer, (Limits.LimitProblems.RetryAfterSeconds * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });

    public static RpcException ShuttingDown() => new(
        new Status(StatusCode.Unavailable, "The server is shutting down; watch again with since_seq set to the last seq to resume."),
        new Metadata { { ProblemTypeTrailer, Problems.Prefix + "unavailable" } });
}
