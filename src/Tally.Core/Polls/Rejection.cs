namespace Tally.Polls;

/// <summary>A refused command: what kind of refusal, a sentence for the client, and per-field errors when there are several.</summary>
public sealed record Rejection(RejectionKind Kind, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    /// <summary>For <see cref="RejectionKind.RateLimited"/>: the seconds after which the client may try again.</summary>
    public int? RetryAfterSeconds { get; init; }

    internal static readonly Rejection Overloaded = new(RejectionKind.Overloaded, "The ingest queue for this poll is full. Retry after a moment.");
    internal static readonly Rejection Stopping = new(RejectionKind.Unavailable, "The server is shutting down.");
    internal static readonly Rejection NotStarted = new(RejectionKind.Unavailable, "The engine is not running.");
}
