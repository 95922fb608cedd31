using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// One item in a partition's queue. <see cref="Decide"/> runs on the partition's loop and may apply
/// events; <see cref="Complete"/> runs after the batch's append: with null when it is durable, or with
/// the failure after every event of the batch was reversed.
/// </summary>
internal abstract class PartitionWork
{
    /// <summary>Votes this item holds against the partition's queue capacity.</summary>
    public virtual int Weight => 0;

    public abstract void Decide(Partition partition);

    public abstract void Complete(Partition partition, Exception? failure);
}

/// <summary>One ballot from <c>POST /v1/polls/{id}/votes</c> or a socket.</summary>
internal sealed class SingleVoteWork(CastVote vote) : PartitionWork
{
    private readonly TaskCompletionSource<VoteOutcome> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private VoteOutcome _outcome;

    public override int Weight => 1;

    public Task<VoteOutcome> Task => _done.Task;

    public override void Decide(Partition partition) => _outcome = partition.DecideVote(vote);

    // After a failed append every answer of the batch is withdrawn, not only those that made an event:
    // a replay or an already-voted refusal may rest on an earlier ballot of the same, reversed batch.
    public override void Complete(Partition partition, Exception? failure) =>
        _done.TrySetResult(failure is not null ? VoteOutcome.Rejected(Partition.AppendFailed(failure)) : _outcome);
}

/// <summary>Ballots of one <c>POST /v1/votes/batch</c> that belong to one partition (at most <see cref="TallyEngineOptions.MaxBatch"/>).</summary>
internal sealed class BatchVoteWork(VoteBatch batch, IReadOnlyList<int> indexes) : PartitionWork
{
    public override int Weight => indexes.Count;

    public override void Decide(Partition partition)
    {
        foreach (var at in indexes)
        {
            batch.Results[at] = partition.DecideVote(batch.Votes[at]);
        }
    }

    public override void Complete(Partition partition, Exception? failure)
    {
        if (failure is not null)
        {
            // As for single votes: no answer decided in a reversed batch stands.
            var rejection = VoteOutcome.Rejected(Partition.AppendFailed(failure));
            foreach (var at in indexes)
            {
                batch.Results[at] = rejection;
            }
        }

        batch.PartDone();
    }
}

/// <summary>Shared by the <see cref="BatchVoteWork"/> items of one batch; completes when the last part does.</summary>
internal sealed class VoteBatch(IReadOnlyList<CastVote> votes, VoteOutcome[] results, int parts)
{
    private readonly TaskCompletionSource<VoteOutcome[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining = parts;

    public IReadOnlyList<CastVote> Votes => votes;

    public VoteOutcome[] Results => results;

    public Task<VoteOutcome[]> Task => _done.Task;

    public void PartDone()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult(results);
        }
    }
}

/// <summary>Creates a poll.</summary>
internal sealed class CreatePollWork(PollDefinition definition) : PartitionWork
{
    private readonly TaskCompletionSource<Outcome<PollResults>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Rejection? _rejection;

    public Task<Outcome<PollResults>> Task => _done.Task;

    public override void Decide(Partition partition) => _rejection = partition.DecideCreate(definition);

    public override void Complete(Partition partition, Exception? failure) =>
        _done.TrySetResult(Partition.Answer(partition, _rejection, failure, definition.Id));
}

/// <summary>A manager's command on one poll (close it, open, pause, resume or reopen it), answered with its results once durable.</summary>
internal sealed class PollCommandWork(string pollId, Func<Partition, string, Rejection?> decide) : PartitionWork
{
    private readonly TaskCompletionSource<Outcome<PollResults>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Rejection? _rejection;

    public Task<Outcome<PollResults>> Task => _done.Task;

    public override void Decide(Partition partition) => _rejection = decide(partition, pollId);

    public override void Complete(Partition partition, Exception? failure) =>
        _done.TrySetResult(Partition.Answer(partition, _rejection, failure, pollId));
}

/// <summary>Publishes the ranking polls whose publication waited (<see cref="Partition.PublishDeferred"/>).</summary>
internal sealed class PublishDeferredWork : PartitionWork
{
    public override void Decide(Partition partition)
    {
    }

    public override void Complete(Partition partition, Exception? failure) => partition.PublishDeferred();
}

/// <summary>Opens the scheduled polls whose <c>opensAt</c> has come and closes those whose <c>closesAt</c> has passed.</summary>
internal sealed class ExpireWork : PartitionWork
{
    public override void Decide(Partition partition) => partition.CloseDuePolls();

    public override void Complete(Partition partition, Exception? failure) => partition.ExpiryDone();
}

/// <summary>Serializes the partition's state for a snapshot, after the batch it came in is durable.</summary>
internal sealed class CaptureWork : PartitionWork
{
    private readonly TaskCompletionSource<Partition.Capture> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<Partition.Capture> Task => _done.Task;

    public override void Decide(Partition partition)
    {
    }

    public override void Complete(Partition partition, Exception? failure)
    {
        try
        {
            _done.TrySetResult(partition.CaptureState());
        }
        catch (Exception ex)
        {
            _done.TrySetException(ex);
        }
    }
}


/// <summary>Creates an event and its questions, answered with the event's results once durable.</summary>
internal sealed class CreateEventWork(IReadOnlyList<PollDefinition> definitions) : PartitionWork
{
    private readonly TaskCompletionSource<Outcome<PollResults>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Rejection? _rejection;

    public Task<Outcome<PollResults>> Task => _done.Task;

    public override void Decide(Partition partition) => _rejection = partition.Desk.Create(definitions);

    public override void Complete(Partition partition, Exception? failure) =>
        _done.TrySetResult(Partition.Answer(partition, _rejection, failure, definitions[0].Id));
}

/// <summary>A command or query decided on the partition's loop whose answer is not a poll's results (a join, a standing), given once the batch is durable.</summary>
internal sealed class AnswerWork<T>(Func<Partition, Outcome<T>> decide) : PartitionWork
    where T : class
{
    private readonly TaskCompletionSource<Outcome<T>> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Outcome<T> _decided;

    public Task<Outcome<T>> Task => _done.Task;

    public override void Decide(Partition partition) => _decided = decide(partition);

    public override void Complete(Partition partition, Exception? failure) =>
        _done.TrySetResult(failure is not null ? Partition.AppendFailed(failure) : _decided);
}
