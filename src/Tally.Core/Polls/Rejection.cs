namespace Tally.Polls;

/// <summary>A refused command: what kind of refusal, a sentence for the client, and per-field errors when there are several.</summary>
public sealed record Rejection(RejectionKind Kind, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    /// <summary>For <see cref="RejectionKind.RateLimited"/>: the seconds after which the client may try again.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>The answer of an engine whose queue for the poll's partition is full: nothing was taken (503 + Retry-After).</summary>
    public static readonly Rejection Overloaded = new(RejectionKind.Overloaded, "The ingest queue for this poll is full. Retry after a moment.");

    /// <summary>The answer of an engine that is stopping: nothing was taken (503).</summary>
    public static readonly Rejection Stopping = new(RejectionKind.Unavailable, "The server is shutting down.");

    /// <summary>The answer of every engine to any command or query before it started and after it stopped (503).</summary>
    public static readonly Rejection NotStarted = new(RejectionKind.Unavailable, "The engine is not running.");
}
