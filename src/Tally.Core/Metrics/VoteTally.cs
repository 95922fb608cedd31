using Tally.Engine;
using Tally.Polls;

namespace Tally.Metrics;

/// <summary>Outcomes of the ballots of one batch, added up as they are decided and recorded once the batch is durable.</summary>
internal sealed class VoteTally
{
    public long Counted { get; private set; }

    public long Changed { get; private set; }

    public long Replayed { get; private set; }

    /// <summary>Rejections by <see cref="RejectionKind"/> (already-voted among them: recorded as duplicates).</summary>
    public long[] Rejected { get; } = new long[Enum.GetValues<RejectionKind>().Length];

    public void Add(in VoteOutcome outcome)
    {
        if (outcome.Rejection is { } rejection)
        {
            Rejected[(int)rejection.Kind]++;
        }
        else if (outcome.Replayed)
        {
            Replayed++;
        }
        else if (outcome.Status == VoteStatus.Changed)
        {
            Changed++;
        }
        else
        {
            Counted++;
        }
    }

    public void Clear()
    {
        Counted = Changed = Replayed = 0;
        Array.Clear(Rejected);
    }
}
