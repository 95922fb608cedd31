using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Tally.Engine;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Cluster.Engine;

/// <summary>
/// Commands and queries between nodes: a node that does not own a poll's partition sends the command to
/// <c>{ns}.cmd.{partition}</c> (NATS request/reply, JSON), where only the owner listens, and the owner answers
/// with the outcome its engine decided.
/// </summary>
internal sealed class CommandForwarding(INatsConnection nats, ClusterOptions options, Func<int, TallyEngine?> local, ILogger logger, PartitionVotes? votes = null)
{
    private const string OwnersQueue = "owners";

    /// <summary>
    /// Most ballots one forwarded request carries. Its answer must fit one NATS message too, and an answer is up to a
    /// few hundred bytes a ballot (a rejection's sentence); 1,000 keeps it well under the default 1 MB.
    /// </summary>
    public const int MaxForwardedVotes = 1_000;

    /// <summary>Room for a request's subject, reply subject and headers beside its payload.</summary>
    private const int HeaderRoom = 4 * 1024;

    public static Rejection Unavailable(int partition) =>
        new(RejectionKind.Unavailable, $"Partition {partition} has no owner right now (a node is taking it over). Nothing was taken; retry.");

    /// <summary>
    /// <paramref name="votes"/> in order, in pieces of at most <see cref="MaxForwardedVotes"/> ballots whose request
    /// fits the server's max payload (halved until it does; a single ballot always fits: its fields are bounded).
    /// </summary>
    public List<CastVote[]> Pieces(CastVote[] votes)
    {
        ArgumentNullException.ThrowIfNull(votes);
        var limit = (nats.ServerInfo?.MaxPayload ?? 1024 * 1024) - HeaderRoom;
        var pieces = new List<CastVote[]>();
        for (var at = 0; at < votes.Length; at += MaxForwardedVotes)
        {
            AddFitting(votes[at..Math.Min(votes.Length, at + MaxForwardedVotes)], limit, pieces);
        }

        return pieces;
    }

    private static void AddFitting(CastVote[] piece, int limit, List<CastVote[]> pieces)
    {
        if (piece.Length > 1 && ForwardedJson.Encode(new ForwardedCommand(ForwardedKind.Votes, Votes: piece)).Length > limit)
        {
            AddFitting(piece[..(piece.Length / 2)], limit, pieces);
            AddFitting(piece[(piece.Length / 2)..], limit, pieces);
            return;
        }

        pieces.Add(piece);
    }

    /// <summary>Sends a command to the partition's owner and returns its answer; <see cref="ForwardedReply.NoOwner"/> when nobody took it.</summary>
    public async Task<ForwardedReply> SendAsync(int partition, ForwardedCommand command)
    {
        try
        {
            var reply = await nats.RequestAsync<byte[], byte[]>(
                options.CommandSubject(partition),
                ForwardedJson.Encode(command),
                replyOpts: new NatsSubOpts { Timeout = options.ForwardTimeout }).ConfigureAwait(false);
            return reply.Data is { Length: > 0 } data ? ForwardedJson.Decode<ForwardedReply>(data) : new ForwardedReply(Rejection: Unavailable(partition), NoOwner: true);
        }
        catch (NatsNoRespondersException)
        {
            return new ForwardedReply(Rejection: Unavailable(partition), NoOwner: true);
        }
        catch (NatsException ex)
        {
            // No answer in time: the owner may still commit it, as with any request whose answer is lost;
            // a retry with the same Idempotency-Key is counted once.
            return new ForwardedReply(Rejection: new Rejection(RejectionKind.Unavailable, $"The owner of partition {partition} did not answer: {ex.Message}. Retry with the same Idempotency-Key."));
        }
    }

    /// <summary>Takes the partition's commands (queue group: one owner gets each), as the owner.</summary>
    public async Task<INatsSub<byte[]>> SubscribeAsync(int partition, CancellationToken cancellationToken) =>
        await nats.SubscribeCoreAsync<byte[]>(options.CommandSubject(partition), OwnersQueue, cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Answers each command as it comes, each on its own task so one slow batch holds up no other, until the subscription
    /// ends (or <paramref name="stopping"/>): a command read once the partition is no longer owned here is answered "no
    /// owner" at once, so its sender tries the next owner instead of waiting out <see cref="ClusterOptions.ForwardTimeout"/>.
    /// </summary>
    public async Task ServeAsync(int partition, INatsSub<byte[]> commands, CancellationToken stopping)
    {
        try
        {
            await foreach (var message in commands.Msgs.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                _ = Task.Run(() => AnswerAsync(partition, message), CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task AnswerAsync(int partition, NatsMsg<byte[]> message)
    {
        try
        {
            var command = ForwardedJson.Decode<ForwardedCommand>(message.Data);
            ForwardedReply reply;
            if (local(partition) is not { } engine)
            {
                reply = new ForwardedReply(Rejection: Unavailable(partition), NoOwner: true);
            }
            else
            {
                reply = command.Kind switch
                {
                    ForwardedKind.Vote => new ForwardedReply(Vote: votes is null ? await engine.CastVoteAsync(command.Vote!).ConfigureAwait(false) : await votes.CastAsync(partition, engine, command.Vote!).ConfigureAwait(false)),
                    ForwardedKind.Votes => FromOutcome(votes is null ? await engine.CastVotesAsync(command.Votes!).ConfigureAwait(false) : await votes.CastAsync(partition, engine, command.Votes!).ConfigureAwait(false)),
                    ForwardedKind.Create => FromOutcome(await engine.CreatePollAsync(command.Create!, command.PollId!).ConfigureAwait(false)),
                    ForwardedKind.Close => FromOutcome(await engine.ClosePollAsync(command.PollId!).ConfigureAwait(false)),
                    ForwardedKind.Erase => await engine.EraseVoterAsync(command.PollId!, command.VoterId!).ConfigureAwait(false) is var erased && erased.Value is { } erasure
                        ? new ForwardedReply(Erasure: erasure)
                        : new ForwardedReply(Rejection: erased.Rejection),
                    ForwardedKind.Transition => FromOutcome(await engine.ChangePollStatusAsync(command.PollId!, command.Transition).ConfigureAwait(false)),
                    ForwardedKind.Results => FromOutcome(await engine.GetResultsAsync(command.PollId!, CancellationToken.None).ConfigureAwait(false)),
                    ForwardedKind.List => new ForwardedReply(Polls: engine.Catalog.ListByCreation(Math.Clamp(command.Limit, 1, 10_000), command.Before, command.BeforeId, command.Workspace)),
                    ForwardedKind.Ballot => FromOutcome(await engine.FindBallotAsync(command.PollId!, command.VoterId!, CancellationToken.None).ConfigureAwait(false)),
                    ForwardedKind.CreateEvent => FromOutcome(await engine.CreateEventAsync(command.Event!, command.PollId!).ConfigureAwait(false)),
                    ForwardedKind.ControlEvent => FromOutcome(await engine.ControlEventAsync(command.PollId!, command.Action, command.Question).ConfigureAwait(false)),
                    ForwardedKind.Join => FromOutcome(await engine.JoinEventAsync(command.PollId!, command.VoterId!, command.Name!).ConfigureAwait(false)),
                    ForwardedKind.Standing => FromOutcome(await engine.FindStandingAsync(command.PollId!, command.VoterId!, CancellationToken.None).ConfigureAwait(false)),
                    ForwardedKind.Leaders => FromOutcome(await engine.GetLeadersAsync(command.PollId!, Math.Clamp(command.Limit, 1, EventRules.MaxLeaderboardQuery), CancellationToken.None).ConfigureAwait(false)),
                    ForwardedKind.Moderate => FromOutcome(await engine.ModerateAnswerAsync(command.PollId!, command.AnswerSeq, command.Approve).ConfigureAwait(false)),
                    ForwardedKind.Answered => FromOutcome(await engine.MarkAnsweredAsync(command.PollId!, command.AnswerSeq).ConfigureAwait(false)),
                    ForwardedKind.Held => FromOutcome(await engine.GetHeldAnswersAsync(command.PollId!, Math.Clamp(command.Limit, 1, 1000), CancellationToken.None).ConfigureAwait(false)),
                    _ => throw new InvalidDataException($"Unknown forwarded command {command.Kind}."),
                };
            }

            await message.ReplyAsync(ForwardedJson.Encode(reply)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            ClusterLog.ForwardReplyFailed(logger, partition, ex);
            try
            {
                // Better a prompt 503 than a sender left waiting out ForwardTimeout for nothing.
                var failed = new Rejection(RejectionKind.Unavailable, $"The owner of partition {partition} could not answer ({ex.GetType().Name}); the outcome is unknown. Retry with the same Idempotency-Key.");
                await message.ReplyAsync(ForwardedJson.Encode(new ForwardedReply(Rejection: failed))).ConfigureAwait(false);
            }
            catch (Exception replyFailed) when (replyFailed is NatsException or ObjectDisposedException or OperationCanceledException)
            {
                // NATS is away: the sender's request times out instead.
            }
        }
    }

    private static ForwardedReply FromOutcome(Outcome<VoteOutcome[]> outcome) => new(Votes: outcome.Value, Rejection: outcome.Rejection);

    /// <remarks>An event's <see cref="EventView.Changed"/> is the owner's own business (its Redis projection): it does not travel.</remarks>
    private static ForwardedReply FromOutcome(Outcome<PollResults> outcome) =>
        new(Poll: outcome.Value is { Event: { } view } poll ? poll with { Event = view with { Changed = null } } : outcome.Value, Rejection: outcome.Rejection);

    private static ForwardedReply FromOutcome(Outcome<BallotLookup> outcome) => new(Ballot: outcome.Value, Rejection: outcome.Rejection);

    private static ForwardedReply FromOutcome(Outcome<LeaderboardEntry> outcome) => new(Standing: outcome.Value, Rejection: outcome.Rejection);

    private static ForwardedReply FromOutcome(Outcome<IReadOnlyList<LeaderboardEntry>> outcome) => new(Leaders: outcome.Value, Rejection: outcome.Rejection);

    private static ForwardedReply FromOutcome(Outcome<IReadOnlyList<HeldAnswer>> outcome) => new(Held: outcome.Value, Rejection: outcome.Rejection);
}
