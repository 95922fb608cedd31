using BenchmarkDotNet.Attributes;
using Tally.Live;
using Tally.Polls;
using Tally.Projections;
using Tally.Server.Transports;
using Tally.Server.Transports.WebSockets;

namespace Tally.Micro;

/// <summary>Encoding one delta (the message every watcher of a poll gets, encoded once per wire format) in JSON and MessagePack.</summary>
[MemoryDiagnoser]
public class EncodeBenchmarks
{
    private LiveMessage _delta = null!;

    /// <summary>Options whose count changed in the delta.</summary>
    [Params(3, 20)]
    public int Changes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        var options = Enumerable.Range(1, Changes).Select(i => new PollOption(i, $"Option {i}")).ToArray();
        var poll = new PollDefinition("bench00001", "Which one?", PollKind.Single, 1, options, now, null, DedupePolicy.None, false);
        var counts = Enumerable.Range(1, Changes).Select(i => 1_000L * i + 7).ToArray();
        var results = new PollResults(poll, 123_456, PollStatus.Open, null, counts.Sum(), counts);
        _delta = LiveMessage.Delta(results, 123_400, [.. counts.Select((c, i) => new OptionCount(i + 1, c))], watchers: 1000);
    }

    [Benchmark(Baseline = true)]
    public byte[] Json() => LiveJson.Encode(_delta);

    [Benchmark]
    public byte[] MessagePack() => LiveMessagePack.Encode(_delta);
}
