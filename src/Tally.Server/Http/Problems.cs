using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Tally.Polls;
using Tally.Server.Contracts;

namespace Tally.Server.Http;

/// <summary>
/// Every error the API returns, as RFC 9457 problem details with a stable <c>type</c> per kind
/// (<c>urn:tally:problem:&lt;slug&gt;</c>). The README lists them.
/// </summary>
internal static class Problems
{
    public const string Prefix = "urn:tally:problem:";

    public static ProblemHttpResult InvalidJson(string detail) => Make(StatusCodes.Status400BadRequest, "invalid-json", "The request body is not valid JSON for this endpoint", detail);

    public static ProblemHttpResult UnsupportedMediaType(string? contentType) => Make(
        StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "The request body must be application/json",
        contentType is null ? "The request has no Content-Type; send Content-Type: application/json." : $"Content-Type \"{contentType}\" is not accepted; send application/json (UTF-8).");

    public static ProblemHttpResult UnsupportedContentEncoding(string encoding) => Make(
        StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "The request body must be application/json",
        $"Content-Encoding \"{ContractMapping.Clip(encoding)}\" is not accepted; send the body uncompressed.");

    /// <summary>The body could not be read at the HTTP level (status 400, or 408 when it came too slowly).</summary>
    public static ProblemHttpResult UnreadableBody(int status, string reason) => status == StatusCodes.Status408RequestTimeout
        ? Make(status, "request-timeout", "The request body came too slowly", $"The body was not received in time ({reason.TrimEnd('.')}).")
        : Make(StatusCodes.Status400BadRequest, "malformed-request", "The request body could not be read", $"The body is not well-formed HTTP ({reason.TrimEnd('.')}).");

    public static ProblemHttpResult BodyTooLarge(long limit) => Make(StatusCodes.Status413PayloadTooLarge, "body-too-large", "The request body is too large", $"This endpoint takes at most {limit} bytes.");

    public static ProblemHttpResult BatchTooLarge(int count, int limit) => Make(StatusCodes.Status413PayloadTooLarge, "batch-too-large", "Too many votes in one batch", $"A batch holds at most {limit} votes; this one has {count}.");

    public static ProblemHttpResult InvalidQuery(string detail) => Make(StatusCodes.Status400BadRequest, "invalid-query", "A query parameter is not valid", detail);

    public static ProblemHttpResult Unauthorized(string detail) => Make(StatusCodes.Status401Unauthorized, "unauthorized", "An admin key is required", detail);

    public static ProblemHttpResult NoSuchWorkspace(string id) => Make(StatusCodes.Status404NotFound, "workspace-not-found", "No such workspace", $"There is no workspace {ContractMapping.Clip(id)}.");

    public static ProblemHttpResult NoSuchKey(string id) => Make(StatusCodes.Status404NotFound, "key-not-found", "No such API key", $"There is no API key {ContractMapping.Clip(id)} in this workspace.");

    public static ProblemHttpResult NoSuchWebhook(string id) => Make(StatusCodes.Status404NotFound, "webhook-not-found", "No such webhook endpoint", $"There is no webhook endpoint {ContractMapping.Clip(id)} in this workspace.");

    public static ProblemHttpResult WebhookUrlRefused(string detail) => Make(StatusCodes.Status422UnprocessableEntity, "webhook-url-refused", "Webhooks may not be sent to that URL", detail);

    public static ProblemHttpResult Conflict(string slug, string title, string detail) => Make(StatusCodes.Status409Conflict, slug, title, detail);

    public static ProblemHttpResult Validation(string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        From(new Rejection(RejectionKind.Invalid, detail, errors));

    public static ProblemHttpResult From(Rejection rejection)
    {
        var (status, slug, title) = Describe(rejection.Kind);
        var result = Make(status, slug, title, rejection.Detail);
        if (rejection.Errors is { Count: > 0 } errors)
        {
            result.ProblemDetails.Extensions["errors"] = errors;
        }

        return result;
    }

    /// <summary>
    /// Gives the framework's own problems (unknown route, wrong method, an unhandled exception) a Tally
    /// type and a detail, so that every error a client sees has the same shape.
    /// </summary>
    public static void DescribeFrameworkProblem(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type?.StartsWith(Prefix, StringComparison.Ordinal) == true)
        {
            return;
        }

        var request = context.HttpContext.Request;
        var (slug, detail) = problem.Status switch
        {
            StatusCodes.Status404NotFound => ("not-found", $"There is no endpoint at {request.Path}; see /openapi/v1.json."),
            StatusCodes.Status405MethodNotAllowed => ("method-not-allowed", $"{request.Method} is not allowed on {request.Path}; see /openapi/v1.json."),
            StatusCodes.Status500InternalServerError => ("internal", "The server failed to handle this request; it has been logged."),
            _ => ("http-" + problem.Status, problem.Detail ?? problem.Title ?? "The request failed."),
        };
        problem.Type = Prefix + slug;
        problem.Detail ??= detail;
    }

    public static (int Status, string Slug, string Title) Describe(RejectionKind kind) => kind switch
    {
        RejectionKind.Invalid => (StatusCodes.Status422UnprocessableEntity, "validation", "The request is not valid"),
        RejectionKind.UnknownOption => (StatusCodes.Status422UnprocessableEntity, "unknown-option", "The poll has no such option"),
        RejectionKind.UnknownPoll => (StatusCodes.Status404NotFound, "poll-not-found", "No such poll"),
        RejectionKind.PollClosed => (StatusCodes.Status409Conflict, "poll-closed", "The poll is closed"),
        RejectionKind.AlreadyVoted => (StatusCodes.Status409Conflict, "already-voted", "The voter has already voted"),
        RejectionKind.IdempotencyKeyReused => (StatusCodes.Status422UnprocessableEntity, "idempotency-key-reused", "The idempotency key was used for another request"),
        RejectionKind.Overloaded => (StatusCodes.Status503ServiceUnavailable, "overloaded", "The server is at capacity"),
        RejectionKind.Unavailable or RejectionKind.IdTaken => (StatusCodes.Status503ServiceUnavailable, "unavailable", "The server cannot take this now"),
        RejectionKind.RateLimited => (StatusCodes.Status429TooManyRequests, "rate-limited", "Too many votes from this client"),
        RejectionKind.Unauthorized => (StatusCodes.Status401Unauthorized, "unauthorized", "A valid credential is required"),
        RejectionKind.Forbidden => (StatusCodes.Status403Forbidden, "forbidden", "The credential does not allow this"),
        RejectionKind.ResultsHidden => (StatusCodes.Status403Forbidden, "results-hidden", "The poll's results are not visible to you"),
        RejectionKind.PollNotOpen => (StatusCodes.Status409Conflict, "poll-not-open", "The poll does not take votes now"),
        RejectionKind.InvalidTransition => (StatusCodes.Status409Conflict, "invalid-transition", "The poll's status cannot make that change"),
        RejectionKind.NotJoined => (StatusCodes.Status409Conflict, "not-joined", "Only the event's participants may do this"),
        RejectionKind.NameTaken => (StatusCodes.Status409Conflict, "name-taken", "Another participant has that name"),
        RejectionKind.QuestionLimit => (StatusCodes.Status409Conflict, "question-limit", "The voter has asked as many questions as the poll allows"),
        RejectionKind.QuestionsFull => (StatusCodes.Status409Conflict, "questions-full", "The poll takes no more questions"),
        _ => (StatusCodes.Status500InternalServerError, "internal", "Unexpected error"),
    };

    private static ProblemHttpResult Make(int status, string slug, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Type = Prefix + slug, Title = title, Detail = detail });
}
