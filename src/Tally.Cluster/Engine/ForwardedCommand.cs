using System.Text.Json;
using System.Text.Json.Serialization;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Cluster.Engine;

/// <summary>A command a node sends to the owner of the poll's partition (NATS request/reply, JSON).</summary>
internal sealed record ForwardedCommand(
    ForwardedKind Kind,
    CastVote? Vote = null,
    IReadOnlyList<CastVote>? Votes = null,
    CreatePoll? Create = null,
    string? PollId = null);

internal enum ForwardedKind
{
    Vote,
    Votes,
    Create,
    Close,
}

/// <summary>The owner's answer: one field set, by the command's kind; <see cref="NoOwner"/> when nobody took the command (safe to send again).</summary>
internal sealed record ForwardedReply(
    VoteOutcome? Vote = null,
    VoteOutcome[]? Votes = null,
    PollResults? Poll = null,
    Rejection? Rejection = null,
    bool NoOwner = false);

internal static class ForwardedJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Encode<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    public static T Decode<T>(ReadOnlySpan<byte> data) => JsonSerializer.Deserialize<T>(data, Options) ?? throw new JsonException("An empty forwarded message.");
}
