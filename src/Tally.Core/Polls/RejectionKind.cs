namespace Tally.Polls;

/// <summary>Why a command was refused. Each kind maps to one stable problem <c>type</c> and HTTP status in the server.</summary>
public enum RejectionKind
{
    /// <summary>The command is malformed or breaks a rule of the poll (HTTP 422).</summary>
    Invalid,

    /// <summary>An option id the poll does not have (HTTP 422).</summary>
    UnknownOption,

    /// <summary>No such poll (HTTP 404).</summary>
    UnknownPoll,

    /// <summary>The poll no longer accepts votes (HTTP 409).</summary>
    PollClosed,

    /// <summary>The voter has voted on this poll and changes are not allowed (HTTP 409).</summary>
    AlreadyVoted,

    /// <summary>The idempotency key was used before for a different request (HTTP 422).</summary>
    IdempotencyKeyReused,

    /// <summary>The ingest queue is full; try again later (HTTP 503 + Retry-After).</summary>
    Overloaded,

    /// <summary>The event log could not make the command durable, or the engine is stopping (HTTP 503).</summary>
    Unavailable,

    /// <summary>Past one of the <c>Tally:RateLimit</c> buckets (the client's address, the voter, the API key; HTTP 429 + Retry-After).</summary>
    RateLimited,

    /// <summary>No credential, or one that is not valid (unknown, revoked, expired, a bad signature) where one is needed (HTTP 401).</summary>
    Unauthorized,

    /// <summary>A valid credential of the right workspace that lacks the scope or the poll (HTTP 403).</summary>
    Forbidden,

    /// <summary>The poll's results are not visible to this reader yet, or ever (HTTP 403).</summary>
    ResultsHidden,

    /// <summary>The poll does not take votes now: it is a draft, scheduled to open later, or paused (HTTP 409).</summary>
    PollNotOpen,

    /// <summary>The poll's status cannot make that change (pausing a draft, opening a closed poll…; HTTP 409).</summary>
    InvalidTransition,

    /// <summary>An event's question is answered by its participants only: the voter has not joined the event (HTTP 409).</summary>
    NotJoined,

    /// <summary>Another participant of the event has that name (HTTP 409).</summary>
    NameTaken,

    /// <summary>
    /// A new poll's or event's id is taken (ids are random: a clash is rare, and the caller draws another). On the wire it
    /// is <see cref="Unavailable"/> (HTTP 503): a client retrying gets a new id.
    /// </summary>
    IdTaken,

    /// <summary>The voter has asked as many questions as the Q&amp;A poll lets one voter ask (HTTP 409).</summary>
    QuestionLimit,

    /// <summary>The Q&amp;A poll keeps as many questions as a poll may (<see cref="QuestionRules.MaxQuestions"/>); upvotes go on (HTTP 409).</summary>
    QuestionsFull,
}
