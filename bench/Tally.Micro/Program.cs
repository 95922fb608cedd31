using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// Tally.Micro [--job-kind default|quick] [--artifacts DIR] [BenchmarkDotNet options, e.g. --filter '*Encode*']
// Runs in process (no generated project to build per benchmark: the machine is small and shared). "quick" is a reduced
// job for bench/run.sh --quick: 2 warm-up and 5 measured iterations of ~100 ms; "default" is BenchmarkDotNet's own with at most 30 iterations.
var kind = "default";
string? artifacts = null;
var rest = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--job-kind" when i + 1 < args.Length:
            kind = args[++i];
            break;
        case "--artifacts" when i + 1 < args.Length:
            artifacts = args[++i];
            break;
        default:
            rest.Add(args[i]);
            break;
    }
}

var job = kind switch
{
    "quick" => Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5)
        .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100)).WithId("quick"),
    "default" => Job.Default.WithMaxIterationCount(30), // BenchmarkDotNet's own, capped: a noisy shared machine would run it to 100
    _ => throw new ArgumentException($"--job-kind is default or quick, not '{kind}'."),
};

var config = ManualConfig.Create(DefaultConfig.Instance)
    .AddJob(job.WithToolchain(InProcessEmitToolchain.Instance))
    .AddExporter(MarkdownExporter.GitHub)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
if (artifacts is not null)
{
    config = config.WithArtifactsPath(artifacts);
}

BenchmarkSwitcher.FromAssembly(typeof(Tally.Micro.VoteApplyBenchmarks).Assembly).Run([.. rest], config);
