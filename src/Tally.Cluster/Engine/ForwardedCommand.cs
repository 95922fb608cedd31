using System.Text.Json;
using System.Text.Json.Serialization;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Cluster.Engine;

/// <summary>A command or query a node sends to the owner of the poll's partition (NATS request/reply, JSON).</summary>
/// <param name="Limit">List: at most this many polls, newest first, created before (<paramref name="Before"/>, <paramref name="BeforeId"/>) when given.</param>
internal sealed record ForwardedCommand(
    ForwardedKind Kind,
    CastVote? Vote = null,
    IReadOnlyList<CastVote>? Votes = null,
    CreatePoll? Create = null,
    string? PollId = null,
    int Limit = 0,
    DateTimeOffset? Before = null,
    string? BeforeId = null,
    string? Workspace = null,
    string? VoterId = null,
    PollTransition Transition = PollTransition.Open,
    CreateEvent? Event = null,
    EventAction Action = EventAction.Start,
    int Question = 0,
    string? Name = null,
    long AnswerSeq = 0,
    bool Approve = false);

internal enum ForwardedKind
{
    Vote,
    Votes,
    Create,
    Close,

    /// <summary>A query: the poll's committed results.</summary>
    Results,

    /// <summary>A query: a page of the partition's polls by creation.</summary>
    List,

    /// <summary>A query: one voter's ballot on a poll.</summary>
    Ballot,

    /// <summary>Open, pause or resume a poll (<see cref="ForwardedCommand.Transition"/>).</summary>
    Transition,

    /// <summary>Erase a voter's ballot (<see cref="ForwardedCommand.VoterId"/>).</summary>
    Erase,

    /// <summary>Create an event and its questions (<see cref="ForwardedCommand.Event"/> under <see cref="ForwardedCommand.PollId"/>).</summary>
    CreateEvent,

    /// <summary>A presenter's command (<see cref="ForwardedCommand.Action"/>, <see cref="ForwardedCommand.Question"/>).</summary>
    ControlEvent,

    /// <summary>Join an event (<see cref="ForwardedCommand.VoterId"/>, <see cref="ForwardedCommand.Name"/>).</summary>
    Join,

    /// <summary>A query: a participant's standing.</summary>
    Standing,

    /// <summary>A query: the event's first <see cref="ForwardedCommand.Limit"/> participants.</summary>
    Leaders,

    /// <summary>Approve or reject a held answer (<see cref="ForwardedCommand.AnswerSeq"/>, <see cref="ForwardedCommand.Approve"/>).</summary>
    Moderate,

    /// <summary>A query: a moderated text poll's held answers.</summary>
    Held,

    /// <summary>Mark a Q&amp;A poll's question (<see cref="ForwardedCommand.AnswerSeq"/>) answered.</summary>
    Answered,
}

/// <summary>The owner's answer: one field set, by the command's kind; <see cref="NoOwner"/> when nobody took the command (safe to send again).</summary>
internal sealed record ForwardedReply(
    VoteOutcome? Vote = null,
    VoteOutcome[]? Votes = null,
    PollResults? Poll = null,
    Rejection? Rejection = null,
    IReadOnlyList<PollResults>? Polls = null,
    bool NoOwner = false,
    BallotLookup? Ballot = null,
    VoterErasure? Erasure = null,
    LeaderboardEntry? Standing = null,
    IReadOnlyList<LeaderboardEntry>? Leaders = null,
    IReadOnlyList<HeldAnswer>? Held = null);

internal static class ForwardedJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Encode<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Decode<T>(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize<T>(data, Options) ?? throw new JsonException("An empty forwarded message.");
}
