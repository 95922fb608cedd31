using System.Text;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// One client message, read from either subprotocol: a JSON object or a MessagePack map with the same keys.
/// A key the message does not have stays null; which keys an op needs is checked by the session.
/// </summary>
internal sealed class ClientOp
{
    public const string Keys = "op, pollId, since, optionIds, value, text, upvote, voterId, requestId, idempotencyKey, inviteCode, token";

    private Field _seen;

    [Flags]
    public enum Field
    {
        None = 0,
        Op = 1,
        PollId = 2,
        Since = 4,
        OptionIds = 8,
        VoterId = 16,
        RequestId = 32,
        IdempotencyKey = 64,
        InviteCode = 128,
        Token = 256,
        Value = 512,
        Text = 1024,
        Upvote = 2048,
    }

    public string? Op { get; set; }

    public string? PollId { get; set; }

    public long? Since { get; set; }

    public int[]? OptionIds { get; set; }

    /// <summary>On a rating or nps poll: the value voted, in place of <see cref="OptionIds"/>.</summary>
    public int? Value { get; set; }

    /// <summary>On a text poll: the answer, in place of <see cref="OptionIds"/>.</summary>
    public string? Text { get; set; }

    /// <summary>On a Q&amp;A poll: the vote id of the question upvoted, in place of <see cref="Text"/>.</summary>
    public string? Upvote { get; set; }

    public string? VoterId { get; set; }

    public string? RequestId { get; set; }

    public string? IdempotencyKey { get; set; }

    /// <summary>An invite code (vote on an invite poll).</summary>
    public string? InviteCode { get; set; }

    /// <summary>A credential for this op only (a voter token, a watch token), or the socket's new one (<c>auth</c>).</summary>
    public string? Token { get; set; }

    public static Field FieldOf(ReadOnlySpan<byte> utf8Name) => utf8Name switch
    {
        _ when utf8Name.SequenceEqual("op"u8) => Field.Op,
        _ when utf8Name.SequenceEqual("pollId"u8) => Field.PollId,
        _ when utf8Name.SequenceEqual("since"u8) => Field.Since,
        _ when utf8Name.SequenceEqual("optionIds"u8) => Field.OptionIds,
        _ when utf8Name.SequenceEqual("voterId"u8) => Field.VoterId,
        _ when utf8Name.SequenceEqual("requestId"u8) => Field.RequestId,
        _ when utf8Name.SequenceEqual("idempotencyKey"u8) => Field.IdempotencyKey,
        _ when utf8Name.SequenceEqual("inviteCode"u8) => Field.InviteCode,
        _ when utf8Name.SequenceEqual("token"u8) => Field.Token,
        _ when utf8Name.SequenceEqual("value"u8) => Field.Value,
        _ when utf8Name.SequenceEqual("text"u8) => Field.Text,
        _ when utf8Name.SequenceEqual("upvote"u8) => Field.Upvote,
        _ => Field.None,
    };

    /// <summary>The error for a key that is not one of <see cref="Keys"/>, or is there twice; null when it is fine.</summary>
    public string? Accept(Field field, ReadOnlySpan<byte> utf8Name)
    {
        if (field == Field.None)
        {
            return $"Unknown key \"{Clip(utf8Name)}\"; a message has only these keys: {Keys}.";
        }

        if ((_seen & field) != 0)
        {
            return $"The key \"{Clip(utf8Name)}\" appears twice.";
        }

        _seen |= field;
        return null;
    }

    private static string Clip(ReadOnlySpan<byte> utf8Name) => Contracts.ContractMapping.Clip(Encoding.UTF8.GetString(utf8Name));
}
