using Tally.Engine;
using Tally.Polls;

namespace Tally.Core.Tests.Simulation;

/// <summary>One vote as the client means it: its poll, voter, choices and idempotency key; retries resend it with the same key.</summary>
internal sealed class SentVote(int id, string pollId, string voter, int[] options, string key)
{
    public int Id { get; } = id;

    public string PollId { get; } = pollId;

    public string Voter { get; } = voter;

    /// <summary>The option ids, sorted, as the log keeps them.</summary>
    public int[] Options { get; } = options;

    public string Key { get; } = key;

    public CastVote Command => new(PollId, [.. Options], Voter, Key);

    public int Attempts { get; set; }

    /// <summary>Some attempt was answered counted or changed: its event is durable at <see cref="AckedSeq"/>.</summary>
    public bool Acked { get; set; }

    public VoteStatus AckedStatus { get; set; }

    public long AckedSeq { get; set; }

    /// <summary>Some attempt was refused for good (not unavailable, not overloaded): nothing of it is in the log.</summary>
    public RejectionKind? Refused { get; set; }

    /// <summary>Some attempt failed (unavailable, an exception, a crash): it may be in the log or not, but at most once.</summary>
    public bool Unknown { get; set; }

    /// <summary>False once its voter was erased on its poll (the erasure forgets the keys, so a retry would count again: the client does not).</summary>
    public bool Retriable { get; set; } = true;
}

/// <summary>Everything the clients sent and were answered, for the checker; and the violations found as it goes.</summary>
internal sealed class SimHistory
{
    private readonly Lock _gate = new();

    public List<SentVote> Votes { get; } = [];

    public Dictionary<string, SentVote> ByKey { get; } = new(StringComparer.Ordinal);

    /// <summary>Erasures answered erased, at their (poll, seq).</summary>
    public List<(string PollId, long Seq)> Erasures { get; } = [];

    /// <summary>The highest seq acknowledged on each poll (a vote or an erasure).</summary>
    public Dictionary<string, long> MaxAckedSeq { get; } = new(StringComparer.Ordinal);

    /// <summary>The seq each poll's results were last seen at by a check.</summary>
    public Dictionary<string, long> LastServedSeq { get; } = new(StringComparer.Ordinal);

    public List<string> Violations { get; } = [];

    /// <summary>Snapshots and deltas the live watchers were written, over every engine life.</summary>
    public int LiveSnapshots;

    public int LiveDeltas;

    /// <summary>The planned steps and faults: a function of the seed alone.</summary>
    public List<string> Schedule { get; } = [];

    /// <summary>What happened, in order (answers depend on how the partitions' threads interleaved).</summary>
    public List<string> Trace { get; } = [];

    public int AckedCount => Votes.Count(v => v.Acked);

    public int UnknownCount => Votes.Count(v => !v.Acked && v.Refused is null && v.Unknown);

    public int RefusedCount => Votes.Count(v => v.Refused is not null);

    public SentVote NewVote(string pollId, string voter, int[] options)
    {
        var vote = new SentVote(Votes.Count, pollId, voter, options, "k" + Votes.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Votes.Add(vote);
        ByKey.Add(vote.Key, vote);
        return vote;
    }

    public void Note(string line)
    {
        lock (_gate)
        {
            Trace.Add(line);
        }
    }

    public void Violation(string line)
    {
        lock (_gate)
        {
            Violations.Add(line);
        }
    }

    /// <summary>Records one attempt's answer; a retry's answer must agree with what the key was answered before.</summary>
    public void Answered(SentVote vote, VoteOutcome outcome)
    {
        lock (_gate)
        {
            vote.Attempts++;
            Trace.Add($"  {vote.Key} {vote.PollId} {vote.Voter} [{string.Join(",", vote.Options)}] -> {outcome.Status} seq {outcome.Seq}{(outcome.Replayed ? " replayed" : "")}{(outcome.Rejection is { } r ? " " + r.Kind : "")}");
            if (outcome.Status is VoteStatus.Counted or VoteStatus.Changed)
            {
                if (vote.Acked && (!outcome.Replayed || outcome.Seq != vote.AckedSeq || outcome.Status != vote.AckedStatus))
                {
                    Violations.Add($"{vote.Key}: acknowledged {vote.AckedStatus} at seq {vote.AckedSeq}, then a retry was answered {outcome.Status} at seq {outcome.Seq} (replayed: {outcome.Replayed})");
                }

                if (vote.Refused is { } refused)
                {
                    Violations.Add($"{vote.Key}: refused ({refused}), then a retry was counted at seq {outcome.Seq}");
                }

                vote.Acked = true;
                vote.AckedStatus = outcome.Status;
                vote.AckedSeq = outcome.Seq;
                Acknowledged(vote.PollId, outcome.Seq);
                return;
            }

            switch (outcome.Rejection!.Kind)
            {
                case RejectionKind.Unavailable:
                    vote.Unknown = true;
                    break;
                case RejectionKind.Overloaded:
                    break; // nothing was taken
                default:
                    if (vote.Acked)
                    {
                        Violations.Add($"{vote.Key}: acknowledged at seq {vote.AckedSeq}, then a retry was refused ({outcome.Rejection.Kind}: {outcome.Rejection.Detail})");
                    }

                    vote.Refused = outcome.Rejection.Kind;
                    break;
            }
        }
    }

    public void Failed(SentVote vote, Exception ex)
    {
        lock (_gate)
        {
            vote.Attempts++;
            vote.Unknown = true;
            Trace.Add($"  {vote.Key} -> failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    public void Acknowledged(string pollId, long seq)
    {
        lock (_gate)
        {
            MaxAckedSeq[pollId] = Math.Max(MaxAckedSeq.GetValueOrDefault(pollId), seq);
        }
    }
}
