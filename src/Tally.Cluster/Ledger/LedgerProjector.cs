using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using Tally.Cluster.EventLog;
using Tally.Events;

namespace Tally.Cluster.Ledger;

/// <summary>
/// Writes the event stream into PostgreSQL, the system of record: poll definitions and one row per ballot.
/// Each transaction (the stream messages waiting, up to 16) also moves the checkpoint (compare-and-set on the sequence it
/// started from), so every event is written exactly once and a second projector running for a moment (during
/// a hand-over) only makes its own transaction roll back. PostgreSQL is not on the vote's path: while it is
/// away the projector retries from its checkpoint and the ledger falls behind; no ack waits for it (unless
/// Tally:Cluster:AckAfterLedger: then each counted vote waits for its transaction).
/// </summary>
internal sealed class LedgerProjector(INatsConnection nats, ClusterOptions options, NpgsqlDataSource data, ILogger logger) : RestartableLoop
{
    /// <summary>The most stream messages one PostgreSQL transaction takes (each holds up to 2,048 events).</summary>
    private const int MaxMessagesPerCommit = 16;

    /// <summary>The stream sequence the ledger has written through (as last seen by this projector).</summary>
    public ulong Checkpoint { get; private set; }

    protected override async Task RunAsync(CancellationToken stopping)
    {
        var pause = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await LedgerSchema.MigrateAsync(data, stopping).ConfigureAwait(false);
                await ProjectAsync(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // PostgreSQL or NATS away, or a bug: say so, and start again from the checkpoint after a pause.
                ClusterLog.LedgerBehind(logger, ex.GetType().Name + ": " + ex.Message);
                try
                {
                    await Task.Delay(pause, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    private async Task ProjectAsync(CancellationToken stopping)
    {
        var checkpoint = await ReadCheckpointAsync(stopping).ConfigureAwait(false);
        Checkpoint = checkpoint;
        var js = new NatsJSContext(nats);
        var stream = await js.GetStreamAsync(options.StreamName, cancellationToken: stopping).ConfigureAwait(false);
        var consumer = await stream.CreateOrderedConsumerAsync(
            new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence, OptStartSeq = checkpoint + 1 },
            stopping).ConfigureAwait(false);
        // Under heavy ingest PostgreSQL is slower than the log: the ordered consumer then restarts now and then
        // ("consumer sequence mismatch", from this checkpoint on; 32-message pulls made that 40× more frequent).
        // The consumer reads ahead into a bounded queue and the writer takes every message waiting (up to MaxMessagesPerCommit)
        // into one transaction: one PostgreSQL commit for many stream messages when the log runs ahead, one for one when not.
        var queue = Channel.CreateBounded<(ulong Sequence, byte[] Data)>(new BoundedChannelOptions(4 * MaxMessagesPerCommit) { SingleReader = true, SingleWriter = true });
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var consuming = Task.Run(async () =>
        {
            var expected = checkpoint + 1;
            try
            {
                await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: reading.Token).ConfigureAwait(false))
                {
                    var sequence = message.Metadata?.Sequence.Stream ?? throw new InvalidOperationException("A stream message without metadata.");
                    if (sequence < expected)
                    {
                        continue;
                    }

                    if (sequence != expected)
                    {
                        // The stream has no limits and nothing is deleted from it, so its sequences have no holes: a jump
                        // means a message was lost on the way. Start again from the checkpoint rather than skip it.
                        throw new InvalidDataException($"The ledger's consumer jumped from stream sequence {expected - 1} to {sequence}; reading again from the checkpoint.");
                    }

                    await queue.Writer.WriteAsync((sequence, message.Data!), reading.Token).ConfigureAwait(false);
                    expected++;
                }

                queue.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                queue.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        try
        {
            var pending = new List<(ulong Sequence, byte[] Data)>(MaxMessagesPerCommit);
            while (await queue.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                while (pending.Count < MaxMessagesPerCommit && queue.Reader.TryRead(out var next))
                {
                    pending.Add(next);
                }

                var last = pending[^1].Sequence;
                await WriteAsync(pending, checkpoint, last, stopping).ConfigureAwait(false);
                checkpoint = last;
                Checkpoint = last;
                pending.Clear();
                await nats.PublishAsync(options.LedgerCheckpointSubject, LedgerWatermark.Encode(last), cancellationToken: stopping).ConfigureAwait(false); // for votes waiting on the ledger (AckAfterLedger)
            }
        }
        finally
        {
            await reading.CancelAsync().ConfigureAwait(false);
            await consuming.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<ulong> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        await using var batch = data.CreateBatch();
        var create = new NpgsqlBatchCommand("INSERT INTO ledger_checkpoints (stream, seq) VALUES ($1, 0) ON CONFLICT (stream) DO NOTHING");
        create.Parameters.AddWithValue(options.StreamName);
        var read = new NpgsqlBatchCommand("SELECT seq FROM ledger_checkpoints WHERE stream = $1");
        read.Parameters.AddWithValue(options.StreamName);
        batch.BatchCommands.Add(create);
        batch.BatchCommands.Add(read);
        return (ulong)(long)(await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Consecutive stream messages' events and the checkpoint's move over them, in one transaction.</summary>
    private async Task WriteAsync(List<(ulong Sequence, byte[] Data)> messages, ulong from, ulong to, CancellationToken cancellationToken)
    {
        await using var connection = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var move = new NpgsqlBatchCommand("UPDATE ledger_checkpoints SET seq = $1 WHERE stream = $2 AND seq = $3");
        move.Parameters.AddWithValue((long)to);
        move.Parameters.AddWithValue(options.StreamName);
        move.Parameters.AddWithValue((long)from);
        batch.BatchCommands.Add(move);
        foreach (var (_, payload) in messages)
        {
            foreach (var stored in BatchMessage.Read(payload, 0))
            {
                batch.BatchCommands.Add(Command(stored.Event));
            }
        }

        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
        }

        if (move.RecordsAffected != 1)
        {
            throw new InvalidOperationException($"The ledger's checkpoint moved past {from} under this projector (another one ran); starting again from it.");
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlBatchCommand Command(PollEvent e)
    {
        NpgsqlBatchCommand command;
        switch (e)
        {
            case PollCreated created:
                var d = created.Definition;
                command = new NpgsqlBatchCommand("""
                    INSERT INTO polls (id, question, kind, max_choices, options, created_at, closes_at, dedupe, allow_change, scale_min, opens_at, max_ballots, status, seq)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1)
                    """);
                command.Parameters.AddWithValue(d.Id);
                command.Parameters.AddWithValue(d.Question);
                command.Parameters.AddWithValue(d.Kind.ToString().ToLowerInvariant());
                command.Parameters.AddWithValue(d.MaxChoices);
                command.Parameters.AddWithValue(d.Options.Select(o => o.Text).ToArray());
                command.Parameters.AddWithValue(d.CreatedAt.ToUniversalTime());
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)d.ClosesAt?.ToUniversalTime() ?? DBNull.Value });
                command.Parameters.AddWithValue(d.Dedupe.ToString().ToLowerInvariant());
                command.Parameters.AddWithValue(d.AllowChange);
                command.Parameters.AddWithValue(d.ScaleMin);
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)d.OpensAt?.ToUniversalTime() ?? DBNull.Value });
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (object?)d.MaxBallots ?? DBNull.Value });
                command.Parameters.AddWithValue(!d.StartsAsDraft ? "open" : d.OpensAt is null ? "draft" : "scheduled");
                return command;
            case BallotErased erased:
                // The system of record forgets the ballot, and with it the voter id; the poll's seq moves on.
                command = new NpgsqlBatchCommand("""
                    WITH gone AS (DELETE FROM ballots WHERE poll_id = $1 AND ballot_seq = $2)
                    UPDATE polls SET seq = $3 WHERE id = $1
                    """);
                command.Parameters.AddWithValue(erased.PollId);
                command.Parameters.AddWithValue(erased.BallotSeq);
                command.Parameters.AddWithValue(erased.Seq);
                return command;
            case PollReopened reopened:
                command = new NpgsqlBatchCommand("UPDATE polls SET status = 'open', closed_at = NULL, close_reason = NULL, seq = $2 WHERE id = $1");
                command.Parameters.AddWithValue(reopened.PollId);
                command.Parameters.AddWithValue(reopened.Seq);
                return command;
            case PollOpened or PollPaused or PollResumed:
                command = new NpgsqlBatchCommand("UPDATE polls SET status = $2, seq = $3 WHERE id = $1");
                command.Parameters.AddWithValue(e.PollId);
                command.Parameters.AddWithValue(e is PollPaused ? "paused" : "open");
                command.Parameters.AddWithValue(e.Seq);
                return command;
            case PollClosed closed:
                command = new NpgsqlBatchCommand("UPDATE polls SET status = 'closed', closed_at = $2, close_reason = $3, seq = $4 WHERE id = $1");
                command.Parameters.AddWithValue(closed.PollId);
                command.Parameters.AddWithValue(closed.At.ToUniversalTime());
                command.Parameters.AddWithValue(closed.Reason.ToString().ToLowerInvariant());
                command.Parameters.AddWithValue(closed.Seq);
                return command;
            case VoteCast cast:
                return Cast(cast);
            case VoteChanged changed:
                command = new NpgsqlBatchCommand("UPDATE ballots SET option_ids = $3, changed_at = $4, changed_seq = $5 WHERE poll_id = $1 AND ballot_seq = $2");
                command.Parameters.AddWithValue(changed.PollId);
                command.Parameters.AddWithValue(changed.BallotSeq);
                command.Parameters.AddWithValue(changed.OptionIds);
                command.Parameters.AddWithValue(changed.At.ToUniversalTime());
                command.Parameters.AddWithValue(changed.Seq);
                return command;
            default:
                // The ledger keeps polls and choice ballots; an event's facts, text answers, moderation and Q&A questions stay
                // in the log (the poll's seq still moves on, so the ledger is not stuck on them, as it was before).
                command = new NpgsqlBatchCommand("UPDATE polls SET seq = $2 WHERE id = $1");
                command.Parameters.AddWithValue(e.PollId);
                command.Parameters.AddWithValue(e.Seq);
                return command;
        }
    }

    private static NpgsqlBatchCommand Cast(VoteCast cast)
    {
        var command = new NpgsqlBatchCommand("""
            INSERT INTO ballots (poll_id, ballot_seq, voter_id, one_per_voter, option_ids, idempotency_key, cast_at)
            SELECT $1, $2, $3::text, p.dedupe = 'voter' AND $3::text IS NOT NULL, $4, $5, $6 FROM polls p WHERE p.id = $1
            """);
        command.Parameters.AddWithValue(cast.PollId);
        command.Parameters.AddWithValue(cast.Seq);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)cast.VoterId ?? DBNull.Value });
        command.Parameters.AddWithValue(cast.OptionIds);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)cast.IdempotencyKey ?? DBNull.Value });
        command.Parameters.AddWithValue(cast.At.ToUniversalTime());
        return command;
    }
}
