using Tally.Cluster.Engine;

namespace Tally.Cluster.Tests.Engine;

/// <summary>What a 2xx means in cluster mode, by NATS version, replicas and the operator's sync declaration.</summary>
public sealed class NatsDurabilityTests
{
    [Theory]
    [InlineData("2.9.10", false)]
    [InlineData("2.9.25", false)]
    [InlineData("2.10.0", true)]
    [InlineData("2.12.1", true)]
    [InlineData("2.11.0-beta.2", true)]
    [InlineData(null, true)]
    [InlineData("garbage", true)]
    public void The_sync_interval_setting_is_known_by_version(string? version, bool has) =>
        Assert.Equal(has, NatsDurability.HasSyncInterval(version));

    [Fact]
    public void Debians_nats_server_says_a_machine_crash_can_lose_the_last_two_minutes()
    {
        var one = NatsDurability.Describe("2.9.10", 1, syncAlways: false);
        Assert.True(one.AtRisk);
        Assert.Contains("nats-server 2.9.10, 1 replica(s)", one.Statement, StringComparison.Ordinal);
        Assert.Contains("no sync_interval setting", one.Statement, StringComparison.Ordinal);
        Assert.Contains("its one server's machine can lose the votes acknowledged in the last 2 minutes", one.Statement, StringComparison.Ordinal);

        var three = NatsDurability.Describe("2.9.10", 3, syncAlways: false);
        Assert.Contains("a majority of its 3 servers at once", three.Statement, StringComparison.Ordinal);
    }

    [Fact]
    public void A_newer_server_says_how_to_fsync_and_the_declaration_lifts_the_risk()
    {
        var unset = NatsDurability.Describe("2.12.1", 3, syncAlways: false);
        Assert.True(unset.AtRisk);
        Assert.Contains("sync_interval: always", unset.Statement, StringComparison.Ordinal);
        Assert.Contains("Tally:Cluster:NatsSyncAlways=true", unset.Statement, StringComparison.Ordinal);

        var always = NatsDurability.Describe("2.12.1", 3, syncAlways: true);
        Assert.False(always.AtRisk);
        Assert.Contains("survives an OS crash or power loss", always.Statement, StringComparison.Ordinal);
    }
}
