using BenchmarkDotNet.Attributes;
using Tally.Engine;
using Tally.Polls;

namespace Tally.Micro;

/// <summary>
/// Applying votes to a tally: <see cref="PollState.Decide"/> (dedupe, idempotency, counting, the event) for 1,000
/// ballots from distinct voters on a fresh poll state, per invocation; the time shown is per vote.
/// </summary>
[MemoryDiagnoser]
public class VoteApplyBenchmarks
{
    private const int Votes = 1000;

    private PollDefinition _definition = null!;
    private CastVote[] _votes = [];
    private DateTimeOffset _now;

    [Params(DedupePolicy.None, DedupePolicy.Voter)]
    public DedupePolicy Dedupe { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _now = DateTimeOffset.UnixEpoch.AddYears(56);
        _definition = new PollDefinition("bench00001", "Tabs or spaces?", PollKind.Single, 1,
            [new PollOption(1, "Tabs"), new PollOption(2, "Spaces"), new PollOption(3, "Both")], _now, null, Dedupe, AllowChange: false);
        _votes = [.. Enumerable.Range(0, Votes).Select(i => new CastVote(_definition.Id, [1 + (i % 3)], $"voter-{i}", IdempotencyKey: null))];
    }

    [Benchmark(OperationsPerInvoke = Votes)]
    public long Decide()
    {
        var state = new PollState(_definition, createdPosition: 1);
        foreach (var vote in _votes)
        {
            state.Decide(vote, _now, out _);
        }

        return state.TotalVotes;
    }
}
