using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Tally.Cluster.Engine;
using Tally.Engine;

namespace Tally.Cluster.Tests;

/// <summary>Cluster settings: every bad one is named, at start (through <c>AddTallyCluster</c>) and by the engine's constructor.</summary>
public sealed class ClusterOptionsTests
{
    private static readonly string[] Expected =
    [
        "Tally:Cluster:LeaseTtl is at least 1 s (it is 00:00:00.5000000).",
        "Tally:Cluster:Namespace \"a.b\" must be letters, digits, '_' or '-'.",
        "Tally:Cluster:NodeId must not be empty.",
        "Tally:Cluster:Partitions is from 1 to 1024 (it is 0).",
    ];

    [Fact]
    public void Add_tally_cluster_reports_every_bad_setting_at_once()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tally:Cluster:Namespace"] = "a.b",
            ["Tally:Cluster:Partitions"] = "0",
            ["Tally:Cluster:LeaseTtl"] = "00:00:00.5",
            ["Tally:Cluster:NodeId"] = " ",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddTallyCluster();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ClusterOptions>>().Value);

        Assert.Equal(Expected, error.Failures.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_engine_refuses_bad_settings_naming_every_one()
    {
        var options = new ClusterOptions { Namespace = "a.b", Partitions = 0, LeaseTtl = TimeSpan.FromMilliseconds(500), NodeId = " " };

        var error = Assert.Throws<ArgumentException>(() => new ClusterEngine(new NatsConnection(), options, new TallyEngineOptions { MaxBatch = 0 }));

        foreach (var failure in Expected.Append("Tally:Engine:MaxBatch is at least 1 (it is 0)."))
        {
            Assert.Contains(failure, error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(new ClusterOptions().Failures());
    }

    [Fact]
    public void Fewer_than_three_replicas_are_refused_unless_the_operator_says_so()
    {
        Assert.Equal(3, new ClusterOptions().Replicas);
        foreach (var replicas in new[] { 1, 2 })
        {
            var refused = Assert.Single(new ClusterOptions { Replicas = replicas }.Failures());
            Assert.StartsWith($"Tally:Cluster:Replicas is {replicas}: with fewer than 3 copies", refused, StringComparison.Ordinal);
            Assert.Contains("Tally:Cluster:AllowFewerReplicas=true", refused, StringComparison.Ordinal);
            Assert.Empty(new ClusterOptions { Replicas = replicas, AllowFewerReplicas = true }.Failures());
        }

        Assert.Single(new ClusterOptions { Replicas = 0, AllowFewerReplicas = true }.Failures());
    }
}
