using Tally.Polls;
using Tally.Server.Contracts;
using Tally.Server.Http;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// An <c>error</c> message: which request or poll it is about, and a problem with the same <c>type</c>
/// URIs as the HTTP API (<c>urn:tally:problem:*</c>), so a client handles both alike.
/// </summary>
internal sealed record OpError(string? RequestId, string? PollId, string Type, string Title, string Detail, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    /// <summary>Longest requestId or pollId echoed back; a longer one is left out of the error.</summary>
    public const int MaxEcho = 128;

    /// <summary>Not a message of the subprotocol: not JSON / MessagePack, not an object / map, a key of the wrong type.</summary>
    public static OpError InvalidMessage(ClientOp op, string detail) =>
        new(Echo(op.RequestId), Echo(op.PollId), Problems.Prefix + "invalid-message", "The message is not a valid op", detail);

    public static OpError UnknownOp(ClientOp op) => new(
        Echo(op.RequestId),
        Echo(op.PollId),
        Problems.Prefix + "unknown-op",
        "No such op",
        op.Op is null
            ? "A message needs an op: subscribe, unsubscribe, vote or ping."
            : $"There is no op \"{ContractMapping.Clip(op.Op)}\"; the ops are subscribe, unsubscribe, vote and ping.");

    public static OpError Validation(ClientOp op, string detail) => From(op, new Rejection(RejectionKind.Invalid, detail));

    public static OpError PollNotFound(ClientOp op, string pollId) => From(op, PollRules.UnknownPoll(pollId));

    /// <summary>A refused command, with the type and title the HTTP API gives the same refusal.</summary>
    public static OpError From(ClientOp op, Rejection rejection)
    {
        var (_, slug, title) = Problems.Describe(rejection.Kind);
        return new OpError(Echo(op.RequestId), Echo(op.PollId), Problems.Prefix + slug, title, rejection.Detail, rejection.Errors);
    }

    private static string? Echo(string? value) => value is { Length: <= MaxEcho } ? value : null;
}
