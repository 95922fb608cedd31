using Tally.Engine;
using Tally.Events;

namespace Tally.Core.Tests.Simulation;

/// <summary>
/// Checks a quiescent engine against the surviving log and the clients' history: the log folds without a gap or a ballot
/// out of place; every acknowledged vote is in it exactly once, at the seq it was answered; every refused vote is absent;
/// every vote in it was sent (acknowledged or failed) and at most once; the served counts equal the fold; no poll's seq is
/// lower than one acknowledged or served before; and <see cref="TallyVerifier"/> finds no difference.
/// </summary>
internal static class SimChecker
{
    private sealed class PollFold(Tally.Polls.PollDefinition definition)
    {
        public Tally.Polls.PollDefinition Definition { get; } = definition;

        public long Seq { get; set; } = 1;

        public Dictionary<string, (long Seq, int[] Options)> Ballots { get; } = new(StringComparer.Ordinal);
    }

    public static async Task CheckAsync(TallyEngine engine, SimulatedDisk disk, SimHistory history, string when, CancellationToken cancellationToken)
    {
        var before = history.Violations.Count;
        var folds = new Dictionary<string, PollFold>(StringComparer.Ordinal);
        var keyed = new Dictionary<string, PollEvent>(StringComparer.Ordinal);
        var erasedAt = new HashSet<(string, long)>();
        void Violation(string what) => history.Violation($"{when}: {what}");

        foreach (var e in disk.Events)
        {
            if (e is PollCreated created)
            {
                if (!folds.TryAdd(created.PollId, new PollFold(created.Definition)))
                {
                    Violation($"poll {created.PollId} is created twice in the log");
                }

                continue;
            }

            if (!folds.TryGetValue(e.PollId, out var fold))
            {
                Violation($"the log holds seq {e.Seq} of poll {e.PollId} before its creation");
                continue;
            }

            if (e.Seq != fold.Seq + 1)
            {
                Violation($"the log of poll {e.PollId} jumps from seq {fold.Seq} to {e.Seq}");
            }

            fold.Seq = e.Seq;
            switch (e)
            {
                case VoteCast cast:
                    Keyed(cast.IdempotencyKey, cast.VoterId, cast.OptionIds, e);
                    if (cast.VoterId is null || !fold.Ballots.TryAdd(cast.VoterId, (cast.Seq, Sorted(cast.OptionIds))))
                    {
                        Violation($"{cast.VoteId}: a second ballot of voter {cast.VoterId} on {e.PollId}");
                    }

                    break;
                case VoteChanged changed:
                    Keyed(changed.IdempotencyKey, changed.VoterId, changed.OptionIds, e);
                    if (!fold.Ballots.TryGetValue(changed.VoterId, out var ballot) || ballot.Seq != changed.BallotSeq || !ballot.Options.SequenceEqual(Sorted(changed.PreviousOptionIds)))
                    {
                        Violation($"seq {changed.Seq} of {e.PollId} changes ballot {changed.BallotSeq} of {changed.VoterId}, which the log does not hold as it says");
                    }
                    else if (!fold.Definition.AllowChange)
                    {
                        Violation($"seq {changed.Seq} of {e.PollId} changes a ballot on a poll without allowChange");
                    }

                    fold.Ballots[changed.VoterId] = (changed.BallotSeq, Sorted(changed.OptionIds));
                    break;
                case BallotErased erased:
                    erasedAt.Add((e.PollId, e.Seq));
                    var voter = fold.Ballots.FirstOrDefault(b => b.Value.Seq == erased.BallotSeq);
                    if (voter.Key is null || !voter.Value.Options.SequenceEqual(Sorted(erased.OptionIds)))
                    {
                        Violation($"seq {erased.Seq} of {e.PollId} erases ballot {erased.BallotSeq}, which the log does not hold as it says");
                    }
                    else
                    {
                        fold.Ballots.Remove(voter.Key);
                    }

                    break;
                default:
                    Violation($"seq {e.Seq} of {e.PollId} is a {e.GetType().Name}, which the workload never asks for");
                    break;
            }
        }

        void Keyed(string? key, string? voter, int[] options, PollEvent e)
        {
            if (key is null || !history.ByKey.TryGetValue(key, out var sent))
            {
                Violation($"seq {e.Seq} of {e.PollId} holds a vote nobody sent (key {key ?? "none"})");
                return;
            }

            if (!keyed.TryAdd(key, e))
            {
                Violation($"{key} is in the log twice: seq {keyed[key].Seq} and {e.Seq} of {e.PollId}");
            }

            if (sent.PollId != e.PollId || sent.Voter != voter || !sent.Options.SequenceEqual(Sorted(options)))
            {
                Violation($"{key} is in the log as {voter} [{string.Join(",", options)}] on {e.PollId}, not as sent ({sent.Voter} [{string.Join(",", sent.Options)}] on {sent.PollId})");
            }

            if (sent.Refused is { } refused)
            {
                Violation($"{key} was refused ({refused}) but is in the log at seq {e.Seq}");
            }
            else if (!sent.Acked && !sent.Unknown)
            {
                Violation($"{key} is in the log at seq {e.Seq}, but no attempt of it was ever taken");
            }
        }

        foreach (var sent in history.Votes.Where(v => v.Acked))
        {
            if (!keyed.TryGetValue(sent.Key, out var e))
            {
                Violation($"{sent.Key} was acknowledged ({sent.AckedStatus} at seq {sent.AckedSeq} of {sent.PollId}) but is not in the log");
            }
            else if (e.Seq != sent.AckedSeq || (e is VoteCast) != (sent.AckedStatus == VoteStatus.Counted))
            {
                Violation($"{sent.Key} was acknowledged {sent.AckedStatus} at seq {sent.AckedSeq}, but the log has it as a {e.GetType().Name} at seq {e.Seq}");
            }
        }

        foreach (var (pollId, seq) in history.Erasures)
        {
            if (!erasedAt.Contains((pollId, seq)))
            {
                Violation($"the erasure acknowledged at seq {seq} of {pollId} is not in the log");
            }
        }

        foreach (var (id, fold) in folds)
        {
            var served = await engine.GetResultsAsync(id, cancellationToken);
            if (served.Value is not { } results)
            {
                Violation($"poll {id} is in the log but the engine answers {served.Rejection!.Kind}");
                continue;
            }

            if (results.Seq != fold.Seq)
            {
                Violation($"poll {id} is served at seq {results.Seq}, its log ends at {fold.Seq}");
            }

            if (results.Seq < history.MaxAckedSeq.GetValueOrDefault(id))
            {
                Violation($"poll {id} is served at seq {results.Seq}, below seq {history.MaxAckedSeq[id]} acknowledged before");
            }

            if (results.Seq < history.LastServedSeq.GetValueOrDefault(id))
            {
                Violation($"poll {id} is served at seq {results.Seq}, below seq {history.LastServedSeq[id]} served before");
            }

            history.LastServedSeq[id] = results.Seq;
            var counts = new long[fold.Definition.Options.Count];
            foreach (var ballot in fold.Ballots.Values)
            {
                foreach (var option in ballot.Options)
                {
                    counts[option - 1]++;
                }
            }

            if (!counts.SequenceEqual(results.Counts) || results.TotalVotes != fold.Ballots.Count)
            {
                Violation($"poll {id} serves {results.TotalVotes} ballots [{string.Join(",", results.Counts)}], the log folds to {fold.Ballots.Count} [{string.Join(",", counts)}]");
            }
        }

        var report = await TallyVerifier.VerifyAsync(engine, cancellationToken);
        if (report.Polls != folds.Count)
        {
            Violation($"the engine lists {report.Polls} polls, the log created {folds.Count}");
        }

        foreach (var difference in report.Differences)
        {
            Violation($"TallyVerifier: {difference.PollId} {difference.What}: served {difference.Served}, log {difference.Recomputed}");
        }

        history.Note($"check {when}: {folds.Count} polls, {disk.Events.Count} events, {history.Violations.Count - before} violations");
    }

    private static int[] Sorted(int[] options) => [.. options.Order()];
}
