using Grpc.Core;
using Tally.Polls;
using Tally.Server.Contracts;
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
        RejectionKind.Unavailable => StatusCode.Unavailable,
        RejectionKind.RateLimited => StatusCode.ResourceExhausted,
        RejectionKind.Unauthorized => StatusCode.Unauthenticated,
        RejectionKind.Forbidden => StatusCode.PermissionDenied,
        RejectionKind.ResultsHidden => StatusCode.PermissionDenied,
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

    public static RpcException PollNotFound(string pollId) =>
        From(new Rejection(RejectionKind.UnknownPoll, $"There is no poll {ContractMapping.Clip(pollId)}."));

    public static RpcException ShuttingDown() => new(
        new Status(StatusCode.Unavailable, "The server is shutting down; watch again with since_seq set to the last seq to resume."),
        new Metadata { { ProblemTypeTrailer, Problems.Prefix + "unavailable" } });
}
