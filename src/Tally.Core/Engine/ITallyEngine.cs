using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// The engine as the host sees it: commands in, the read model out. Embedded mode: <see cref="TallyEngine"/>
/// (single process, SQLite). Cluster mode: the cluster adapter's engine (partitions owned across nodes). Both answer
/// alike (tests/Tally.Testing's <c>EngineSpecification</c> runs against each); where they may differ, it says so here.
/// </summary>
/// <remarks>
/// Before <see cref="StartAsync"/> has finished and after <see cref="StopAsync"/>, every query and command answers
/// <see cref="RejectionKind.Unavailable"/> (<see cref="Rejection.NotStarted"/>; a batch as a whole). Arguments that are
/// null or out of range throw. Rejections carry a <see cref="Rejection.Kind"/> every engine gives for the same case;
/// their <see cref="Rejection.Detail"/> sentences may differ.
/// </remarks>
public interface ITallyEngine
{
    /// <summary>The read model every query and the live hub use.</summary>
    PollCatalog Catalog { get; }

    /// <summary>True while the engine takes commands.</summary>
    bool IsRunning { get; }

    /// <summary>What an acknowledged vote survives on this engine's log, in a sentence (the start-up log and <c>/readyz</c>).</summary>
    Tally.Storage.Durability Durability { get; }

    /// <summary>Events applied at start to rebuild the state (for the start-up log line).</summary>
    long ReplayedEvents { get; }

    /// <summary>Raised on a fault the engine survives; the host logs it.</summary>
    event Action<string, Exception>? Faulted;

    Task StartAsync(CancellationToken cancellationToken);

    Task StopAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The poll's definition, or <see cref="RejectionKind.UnknownPoll"/> when there is no such poll. A cluster
    /// node asks the poll's partition owner when it has not seen the poll (definitions never change, so it keeps
    /// them), and may answer <see cref="RejectionKind.Unavailable"/> while that partition has no owner.
    /// </summary>
    ValueTask<Outcome<PollDefinition>> FindPollAsync(string pollId, CancellationToken cancellationToken);

    /// <summary>
    /// The poll's latest results: the committed state, so a client reads its own acknowledged writes on any
    /// node (a cluster node asks the partition's owner). Rejections as for <see cref="FindPollAsync"/>.
    /// </summary>
    ValueTask<Outcome<PollResults>> GetResultsAsync(string pollId, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <see cref="Catalog"/> hold the poll's results and keeps them current while the live hub streams
    /// the poll (a cluster node subscribes to the poll's live updates only now), then returns its definition.
    /// Call it before <c>LiveHub.Subscribe</c>. Rejections as for <see cref="FindPollAsync"/>.
    /// </summary>
    ValueTask<Outcome<PollDefinition>> WatchAsync(string pollId, CancellationToken cancellationToken);

    /// <summary>
    /// Newest polls first, at most <paramref name="limit"/>, after the page <paramref name="cursor"/> (from a
    /// previous page's <see cref="PollPage.NextCursor"/>; null for the first page); only <paramref name="workspace"/>'s
    /// polls when it is given. Cursors are opaque and each kind of engine has its own: one this engine did not give
    /// out (another kind's, or garbage) is <see cref="RejectionKind.Invalid"/>. Polls created within the same
    /// millisecond come in an order each engine fixes (embedded: its log's; cluster: by id).
    /// </summary>
    Task<Outcome<PollPage>> ListPollsAsync(string? workspace, int limit, string? cursor, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="voterId"/> has a ballot on the poll, as its single writer knows it (after every command
    /// acknowledged before this call). Rejections as for <see cref="FindPollAsync"/>.
    /// </summary>
    ValueTask<Outcome<BallotLookup>> FindBallotAsync(string pollId, string voterId, CancellationToken cancellationToken);

    /// <summary>
    /// Creates a poll under a new id (<see cref="TallyEngine.NewPollId"/>) and answers its first results once it is
    /// durable; <see cref="RejectionKind.Invalid"/> with every wrong field otherwise.
    /// </summary>
    Task<Outcome<PollResults>> CreatePollAsync(CreatePoll command);

    /// <summary>Closes a poll and answers its results; closing a closed poll answers them again (idempotent).</summary>
    Task<Outcome<PollResults>> ClosePollAsync(string pollId);

    /// <summary>
    /// Opens a draft or scheduled poll, pauses an open one, or resumes a paused one, and answers its results; a poll already
    /// in the status the change leads to answers them again (idempotent). <see cref="RejectionKind.InvalidTransition"/>
    /// when its status cannot make the change (pausing a draft, resuming a closed poll…).
    /// </summary>
    Task<Outcome<PollResults>> ChangePollStatusAsync(string pollId, PollTransition transition);

    /// <summary>
    /// Erases <paramref name="voterId"/>'s ballot on the poll (normalised as a ballot's voter id is): the ballot leaves the
    /// counts through a <see cref="Events.BallotErased"/> event, and the poll forgets the voter and their idempotency keys.
    /// A voter without a ballot is answered <c>Erased: false</c>. <see cref="RejectionKind.Invalid"/> on a poll that keeps
    /// no ballots by voter (<c>dedupe: none</c>).
    /// </summary>
    Task<Outcome<VoterErasure>> EraseVoterAsync(string pollId, string voterId);

    /// <summary>
    /// Casts one ballot; the outcome is durable unless it is a rejection. <see cref="RejectionKind.Overloaded"/> when
    /// the poll's partition's queue is full (nothing was taken).
    /// </summary>
    ValueTask<VoteOutcome> CastVoteAsync(CastVote vote);

    /// <summary>
    /// Casts many ballots on any polls: one outcome per ballot, in order. Each partition's share is admitted on its own,
    /// so a full partition refuses only its share (each of its ballots <see cref="RejectionKind.Overloaded"/>); the batch
    /// is refused as a whole only when nothing of it could be taken (<see cref="BatchOutcome"/>). A cluster node that
    /// forwards a share of more than a thousand ballots to the partition's owner sends it in pieces, each admitted on its own.
    /// </summary>
    Task<Outcome<VoteOutcome[]>> CastVotesAsync(IReadOnlyList<CastVote> votes);

    /// <summary>
    /// The poll's events from its durable log, oldest first (its creation, every counted and changed ballot, its closing),
    /// through <paramref name="throughSeq"/> (a seq the caller read, so the events are those of one committed state),
    /// streamed as the log is read: memory stays bounded whatever the number of ballots. Nothing for a poll the log does
    /// not have. Reading does not disturb the poll's writer (a cluster node that does not own the poll's partition
    /// reads the partition's log without taking it over).
    /// </summary>
    IAsyncEnumerable<PollEvent> ReadPollEventsAsync(string pollId, long throughSeq, CancellationToken cancellationToken);

    /// <summary>
    /// Creates an event (<see cref="PollKind.Event"/>) and its questions under <paramref name="eventId"/> (which the host derives
    /// from the command's join code), answering the event's first results once durable. A taken id is
    /// <see cref="RejectionKind.IdTaken"/> (draw another code); a command that is not valid is <see cref="RejectionKind.Invalid"/>.
    /// </summary>
    Task<Outcome<PollResults>> CreateEventAsync(CreateEvent command, string eventId);

    /// <summary>
    /// A presenter's command (<see cref="EventAction"/>; <paramref name="question"/> for <see cref="EventAction.Show"/>), answered
    /// with the event's results; doing what is done already answers them again. <see cref="RejectionKind.InvalidTransition"/>
    /// when the event's status does not allow it, <see cref="RejectionKind.UnknownPoll"/> when there is no such event.
    /// </summary>
    Task<Outcome<PollResults>> ControlEventAsync(string eventId, EventAction action, int question);

    /// <summary>
    /// Adds <paramref name="voterId"/> to the event under <paramref name="name"/> (checked by <see cref="EventRules.CheckName"/>)
    /// and answers their standing; joining again answers it unchanged. <see cref="RejectionKind.NameTaken"/>, or
    /// <see cref="RejectionKind.PollClosed"/> once the event has ended. The passcode is the host's to check.
    /// </summary>
    Task<Outcome<LeaderboardEntry>> JoinEventAsync(string eventId, string voterId, string name);

    /// <summary>The participant's score, rank and streak; <see cref="RejectionKind.NotJoined"/> when they have not joined.</summary>
    ValueTask<Outcome<LeaderboardEntry>> FindStandingAsync(string eventId, string voterId, CancellationToken cancellationToken);

    /// <summary>The event's first <paramref name="limit"/> participants, leader first.</summary>
    ValueTask<Outcome<IReadOnlyList<LeaderboardEntry>>> GetLeadersAsync(string eventId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Approves (it counts from now on) or rejects (it never counts) a held answer of a moderated text poll (or question of a
    /// moderated Q&amp;A poll: approved, it is shown and takes upvotes), answered with the
    /// poll's results; <see cref="RejectionKind.Invalid"/> when the poll holds no such answer (moderated already, or none).
    /// </summary>
    Task<Outcome<PollResults>> ModerateAnswerAsync(string pollId, long answerSeq, bool approve);

    /// <summary>A moderated text or Q&amp;A poll's held answers (questions), oldest first, at most <paramref name="limit"/>.</summary>
    ValueTask<Outcome<IReadOnlyList<HeldAnswer>>> GetHeldAnswersAsync(string pollId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the question of a Q&amp;A poll asked at <paramref name="questionSeq"/> answered (a <see cref="Events.QuestionAnswered"/>
    /// event; it stays in the results, marked), answered with the poll's results; marking it again answers them unchanged.
    /// <see cref="RejectionKind.Invalid"/> on another kind, or when the poll shows no such question (none, held, rejected, erased).
    /// </summary>
    Task<Outcome<PollResults>> MarkAnsweredAsync(string pollId, long questionSeq);
}
