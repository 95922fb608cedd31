using System.Net;
using Tally.Server.Tests.Faults;
using Tally.Server.Tests.Infrastructure;
using Tally.Testing;
using Tally.Testing.Engines;

namespace Tally.Server.Tests.Cluster;

/// <summary>
/// JetStream's disk full under a cluster node: nats-server's store on a small tmpfs. Votes JetStream cannot store are
/// refused 503 `unavailable` (in a batch, `rejected` with that type), never acknowledged. nats-server 2.9 answers
/// "resource limits exceeded for server": it sized its file store limit at start from the disk's free space, so more room
/// counts once it restarts. Then the node takes votes again and the tally is exactly what was acknowledged.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterDiskFaultTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_full_jetstream_disk_refuses_votes_with_503_and_after_room_and_a_restart_the_tally_is_exactly_what_was_acknowledged()
    {
        using var disk = SmallDisk.Mount(mebibytes: 4);
        await using var nats = new NatsServer { StoreFolder = Path.Combine(disk.Path, "jetstream") };
        await nats.StartAsync();
        await using var node = await TestServer.StartAsync(ClusterFixture.NodeSettings(nats.Url, fixture.Postgres.ConnectionString, fixture.Redis.Configuration, ClusterFixture.NewClusterName(), "a"));
        var poll = await ClusterFaultTests.CreatePollAsync(node.Admin);

        var acked = new HashSet<string>(StringComparer.Ordinal);
        var refused = 0;
        for (var batch = 0; refused == 0; batch++)
        {
            Assert.True(batch < 400, $"the 4 MiB disk did not fill after {batch} batches:\n{nats.Output}");
            refused += (await DiskFaultTests.SendBatchAsync(node.Client, poll, batch, acked)).Unavailable;
        }

        // Full: the results are exactly what was acknowledged, and a single vote is refused, not taken.
        Assert.Equal(acked.Count, (long)(await node.Client.ResultsAsync(poll))["totalVotes"]!);
        using (var single = await node.Client.VoteAsync(poll, [1], "while-full", "while-full"))
        {
            if (single.StatusCode == HttpStatusCode.Created)
            {
                acked.Add("while-full"); // JetStream had a little room left after all; then it counts
            }
            else
            {
                await ApiClient.AssertProblemAsync(single, HttpStatusCode.ServiceUnavailable, "unavailable");
            }
        }

        // Room, and nats-server restarted on its store (its limit is set at start): votes are taken again, nothing acknowledged went missing.
        disk.Grow(mebibytes: 256);
        await nats.KillAsync();
        await nats.StartAsync();
        await Eventually.WaitUntilAsync(async () =>
        {
            using var after = await node.Client.VoteAsync(poll, [2], "after-room", "after-room");
            if (after.StatusCode == HttpStatusCode.Created)
            {
                acked.Add("after-room");
                return true;
            }

            await ApiClient.AssertProblemAsync(after, HttpStatusCode.ServiceUnavailable, "unavailable");
            return false;
        }, TestServer.Timeout, TimeSpan.FromMilliseconds(100));
        await DiskFaultTests.SendBatchAsync(node.Client, poll, 1000, acked);

        var results = await node.Client.ResultsAsync(poll);
        Assert.Equal(acked.Count, (long)results["totalVotes"]!);
        Assert.Equal(acked.Count + 1, (long)results["seq"]!); // one event per counted vote: none of the refused ones slipped in
        Assert.True(refused > 0);
    }
}
