using System.Buffers;
using System.Net.WebSockets;
using Tally.Live;
using Tally.Polls;
using Tally.Server.Access;

namespace Tally.Server.Transports.WebSockets;

/// <summary>
/// The ops of one socket's client: subscribe (through <see cref="ReadAdmission"/>, then the hub) and unsubscribe,
/// vote (through <see cref="VoteAdmission"/>, the path the HTTP API takes), ping; and their answers (ack, error,
/// pong), sent through the connection's send lock. <paramref name="visitor"/> is who opened the socket (its voter
/// cookie, its origin), <paramref name="credential"/> the credential of the upgrade request; it is checked again for
/// every op (from caches: a key revoked meanwhile stops working on the socket too), and an op's own <c>token</c>
/// speaks for that op instead.
/// </summary>
internal sealed class WebSocketOps(
    WebSocketConnection connection,
    LiveHub hub,
    WebSocketTransportOptions options,
    Action<WebSocketCloseStatus, string> close,
    Visitor visitor,
    string? credential,
    SocketAdmission admission,
    MessageRate rate)
{
    private readonly TimeSpan _stuckTimeout = hub.Options.StuckTimeout;
    private readonly Lock _subscribing = new();
    private readonly Dictionary<string, IDisposable> _guarded = new(StringComparer.Ordinal); // under _subscribing
    private bool _detached; // under _subscribing
    private StandingFollower? _standings; // made at the first standing op


    /// <summary>
    /// Unsubscribes from every poll, for good: the socket is closing. Called from any thread (the writer's,
    /// the shutdown's), so a subscribe in progress on the receive loop either ends before it or is refused.
    /// </summary>
    public void Detach()
    {
        lock (_subscribing)
        {
            _detached = true;
            connection.Detach();
            foreach (var registration in _guarded.Values)
            {
                registration.Dispose();
            }

            _guarded.Clear();
        }
    }

    /// <summary>Reads and carries out one client message; throws <see cref="SlowConsumerException"/> when its answer cannot be sent.</summary>
    public async Task HandleAsync(ReadOnlyMemory<byte> message)
    {
        var verdict = rate.Next(); // every message counts, a malformed one too
        if (verdict == MessageVerdict.Flooding)
        {
            close(WebSocketCloseCodes.Policy, $"too many messages: at most {options.MessagesPerSecond:0.##} a second");
            return;
        }

        var op = new ClientOp();
        var read = connection.Protocol.TryRead(message, op, out var malformed);
        if (verdict == MessageVerdict.Refused)
        {
            hub.Metrics.RecordLimitRefused("socket_messages");
            var seconds = rate.RetryAfterSeconds();
            await SendErrorAsync(OpError.From(op, new Rejection(
                RejectionKind.RateLimited,
                $"This socket may send {options.MessageBurst} messages at once and {options.MessagesPerSecond:0.##} a second after that; this one was not carried out. Retry in {seconds} s; a socket that keeps sending is closed (1008).")
            {
                RetryAfterSeconds = seconds,
            })).ConfigureAwait(false);
            return;
        }

        if (!read)
        {
            await SendErrorAsync(OpError.InvalidMessage(op, malformed!)).ConfigureAwait(false);
            return;
        }

        if (op.RequestId is { Length: > OpError.MaxEcho })
        {
            await SendErrorAsync(OpError.Validation(op, $"requestId is at most {OpError.MaxEcho} characters.")).ConfigureAwait(false);
            return;
        }

        switch (op.Op)
        {
            case "subscribe":
                await SubscribeAsync(op).ConfigureAwait(false);
                break;
            case "unsubscribe":
                if (op.PollId is null)
                {
                    await SendErrorAsync(OpError.Validation(op, "pollId is required.")).ConfigureAwait(false);
                    break;
                }

                if (PollRules.IsPollId(op.PollId))
                {
                    Unwatch(op.PollId); // an id of another shape is no poll, so not one watched: nothing to do
                }

                break;
            case "vote":
                await VoteAsync(op).ConfigureAwait(false);
                break;
            case "standing":
                await FollowStandingAsync(op).ConfigureAwait(false);
                break;
            case "ping":
                await SendAsync(static (protocol, buffer, op) => protocol.WritePong(buffer, op.RequestId), op).ConfigureAwait(false);
                break;
            default:
                await SendErrorAsync(OpError.UnknownOp(op)).ConfigureAwait(false);
                break;
        }
    }

    private async Task SubscribeAsync(ClientOp op)
    {
        if (op.PollId is not { } pollId)
        {
            await SendErrorAsync(OpError.Validation(op, "pollId is required.")).ConfigureAwait(false);
            return;
        }

        if (PollRules.CheckPollId(pollId) is { } noSuchPoll)
        {
            await SendErrorAsync(OpError.From(op, noSuchPoll)).ConfigureAwait(false);
            return;
        }

        if (op.Since < 0)
        {
            await SendErrorAsync(OpError.Validation(op, "since is a seq: 0 or more.")).ConfigureAwait(false);
            return;
        }

        var polls = connection.Polls;
        if (polls.Count >= options.MaxSubscriptions && !polls.Contains(pollId))
        {
            close(WebSocketCloseCodes.Policy, $"at most {options.MaxSubscriptions} subscriptions per socket");
            return;
        }

        var speaker = await SpeakerAsync(op).ConfigureAwait(false);
        if (speaker.Value is not { } who)
        {
            await SendErrorAsync(OpError.From(op, speaker.Rejection!)).ConfigureAwait(false);
            return;
        }

        var grant = await admission.Reads.ReadAsync(who, pollId, Reading.Watch, CancellationToken.None).ConfigureAwait(false);
        if (grant.Rejection is { } refused)
        {
            await SendErrorAsync(OpError.From(op, refused)).ConfigureAwait(false); // 404, 403, or 503 while a cluster partition has no owner
            return;
        }

        bool found;
        lock (_subscribing)
        {
            // Detach may run on another thread (the session closing); a subscribe must not slip in after it.
            found = _detached || hub.Subscribe(connection, pollId, op.Since);
            if (found && !_detached && !_guarded.ContainsKey(pollId)
                && admission.Guard.Track(who, op.Token ?? credential, pollId, refusal => _ = RevokeAsync(pollId, refusal)) is { } registration)
            {
                _guarded[pollId] = registration;
            }
        }

        if (!found)
        {
            await SendErrorAsync(OpError.PollNotFound(op, pollId)).ConfigureAwait(false);
        }
    }

    private async Task VoteAsync(ClientOp op)
    {
        var missing = op switch
        {
            { RequestId: null } => "requestId is required: the ack or error of the vote carries it back.",
            { PollId: null } => "pollId is required.",
            { OptionIds: null, Value: null, Text: null, Upvote: null } => "optionIds is required: an array of option ids (or value, on a rating or nps poll; text, on a text poll; text or upvote, on a Q&A poll).",
            _ => null,
        };
        if (missing is not null)
        {
            await SendErrorAsync(OpError.Validation(op, missing)).ConfigureAwait(false);
            return;
        }

        var speaker = await SpeakerAsync(op).ConfigureAwait(false);
        if (speaker.Value is not { } who)
        {
            await SendErrorAsync(OpError.From(op, speaker.Rejection!)).ConfigureAwait(false);
            return;
        }

        var outcome = await admission.Votes.CastAsync(who, new Ballot(op.PollId!, op.OptionIds, op.VoterId, op.InviteCode, op.IdempotencyKey, op.Value, op.Text, op.Upvote), CancellationToken.None).ConfigureAwait(false);
        if (outcome.Rejection is { } rejection)
        {
            await SendErrorAsync(OpError.From(op, rejection)).ConfigureAwait(false);
            return;
        }

        await SendAsync(static (protocol, buffer, state) => protocol.WriteAck(buffer, state.RequestId, state.Outcome), (RequestId: op.RequestId!, Outcome: outcome)).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>{op:"standing", pollId}</c> on an event this socket watches: the participant's standing now and after every
    /// reveal and at the end (<see cref="StandingFollower"/>). Who the participant is comes from the event's voter identity,
    /// as for their answers (the socket's voter cookie, the op's <c>token</c>, or a trusted backend's <c>voterId</c>).
    /// </summary>
    private async Task FollowStandingAsync(ClientOp op)
    {
        if (op.PollId is not { } eventId || PollRules.CheckPollId(eventId) is not null || !connection.Polls.Contains(eventId))
        {
            await SendErrorAsync(OpError.Validation(op, "standing takes the pollId of an event this socket is subscribed to: subscribe first.")).ConfigureAwait(false);
            return;
        }

        var speaker = await SpeakerAsync(op).ConfigureAwait(false);
        if (speaker.Value is not { } who)
        {
            await SendErrorAsync(OpError.From(op, speaker.Rejection!)).ConfigureAwait(false);
            return;
        }

        var results = await admission.Engine.GetResultsAsync(eventId, CancellationToken.None).ConfigureAwait(false);
        if (results.Value is not { Event: { } progress } now)
        {
            await SendErrorAsync(results.Rejection is { Kind: not RejectionKind.UnknownPoll } refused
                ? OpError.From(op, refused)
                : OpError.Validation(op, $"Poll {eventId} is not an event: standings are for events.")).ConfigureAwait(false);
            return;
        }

        var (voterId, rejected) = await admission.Voters.ResolveAsync(now.Poll, who, new Ballot(eventId, null, op.VoterId, op.InviteCode, null), CancellationToken.None).ConfigureAwait(false);
        if (rejected is not null || voterId is null || PollRules.CheckVoterId(voterId, out var normalized) is not null)
        {
            await SendErrorAsync(rejected is not null ? OpError.From(op, rejected) : OpError.Validation(op, "A standing needs to know the participant: a voterId (trusted backends), a token, or the socket's voter cookie.")).ConfigureAwait(false);
            return;
        }

        if (_standings is null)
        {
            _standings = new StandingFollower(connection, admission, SendStandingAsync);
            connection.Writing = _standings.OnWritten;
        }

        await _standings.FollowAsync(eventId, normalized!, (progress.Current, progress.Revealed, now.Status == PollStatus.Closed), op.RequestId).ConfigureAwait(false);
    }

    private Task SendStandingAsync(StandingMessage message) => message.Entry is { } entry
        ? SendAsync(static (protocol, buffer, m) => protocol.WriteStanding(buffer, m.EventId, m.RequestId, m.Entry!), message)
        : SendErrorAsync(OpError.From(new ClientOp { PollId = message.EventId, RequestId = message.RequestId }, message.Rejection!));

    private void Unwatch(string pollId)
    {
        _standings?.Unfollow(pollId);
        lock (_subscribing)
        {
            hub.Unsubscribe(connection, pollId);
            if (_guarded.Remove(pollId, out var registration))
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>Access changed and the subscription's credential may no longer read the poll: it ends, with an error saying why.</summary>
    private async Task RevokeAsync(string pollId, Rejection refusal)
    {
        Unwatch(pollId);
        try
        {
            await SendErrorAsync(OpError.From(new ClientOp { PollId = pollId }, refusal)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SlowConsumerException or WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the socket is going anyway
        }
    }

    /// <summary>Who the op speaks for: the credential it carries (<c>token</c>), else the socket's, checked now.</summary>
    private async ValueTask<Tally.Engine.Outcome<Visitor>> SpeakerAsync(ClientOp op)
    {
        if ((op.Token ?? credential) is not { } token)
        {
            return visitor;
        }

        var caller = await admission.Authenticator.AuthenticateAsync(token, CancellationToken.None).ConfigureAwait(false);
        return caller.Value is { } known ? visitor.As(known) : caller.Rejection!;
    }

    private Task SendErrorAsync(OpError error) =>
        SendAsync(static (protocol, buffer, error) => protocol.WriteError(buffer, error), error);

    /// <summary>
    /// Sends an answer through the connection's send lock, bounded like the hub's writes: stuck past
    /// <see cref="LiveOptions.StuckTimeout"/>, the client is too slow. After the close frame, answers are dropped.
    /// </summary>
    private async Task SendAsync<TState>(Action<WebSocketProtocol, IBufferWriter<byte>, TState> write, TState state)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        write(connection.Protocol, buffer, state);
        using var stuck = new CancellationTokenSource(_stuckTimeout);
        try
        {
            await connection.SendAsync(buffer.WrittenMemory, stuck.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stuck.IsCancellationRequested)
        {
            throw new SlowConsumerException($"An answer was not sent within {_stuckTimeout.TotalSeconds:0.#} s.");
        }
    }
}
