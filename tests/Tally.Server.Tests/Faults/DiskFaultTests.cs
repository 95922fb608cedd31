using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests.Faults;

/// <summary>
/// A full disk under the embedded log: the server never acknowledges what it could not store (503 `unavailable`), keeps
/// serving reads, takes votes again by itself once there is room, and after a restart counts exactly what it acknowledged.
/// </summary>
public sealed class DiskFaultTests
{
    private static readonly TimeSpan Timeout = TestServer.Timeout;

    [Fact]
    public async Task A_full_disk_refuses_votes_with_503_keeps_serving_reads_and_recovers_by_itself_exactly()
    {
        using var disk = SmallDisk.Mount(mebibytes: 3);
        var acked = new HashSet<string>(StringComparer.Ordinal);
        var refused = 0;
        string poll;
        await using (var server = await ServerProcess.StartAsync(disk.Path))
        {
            poll = (string)(await server.Admin.CreatePollAsync(options: 2, dedupe: "voter"))["id"]!;

            // Batches of 2,000 until the disk is full: every vote is either counted or refused unavailable, never lost in between.
            var batch = 0;
            while (refused == 0)
            {
                Assert.True(batch < 400, $"the 3 MiB disk did not fill after {batch} batches");
                var (counted, unavailable) = await SendBatchAsync(server.Client, poll, batch++, acked);
                refused += unavailable;
            }

            // Full: reads still answer, with exactly what was acknowledged; votes keep being refused, each 503 unavailable.
            var results = await server.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{poll}/results");
            Assert.Equal(acked.Count, (long)results!["totalVotes"]!);
            using (var single = await server.Client.VoteAsync(poll, [1], "while-full"))
            {
                if (single.StatusCode == HttpStatusCode.Created)
                {
                    acked.Add("while-full"); // a little room may have come back (a WAL checkpoint); then it counts
                }
                else
                {
                    await ApiClient.AssertProblemAsync(single, HttpStatusCode.ServiceUnavailable, "unavailable");
                }
            }

            using (var ready = await server.Client.GetAsync(new Uri("/healthz", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }

            // Room again: the same process takes votes once more, without a restart.
            disk.Grow(mebibytes: 64);
            using var deadline = new CancellationTokenSource(Timeout);
            while (true)
            {
                using var after = await server.Client.VoteAsync(poll, [2], "after-room", "after-room");
                if (after.StatusCode == HttpStatusCode.Created)
                {
                    acked.Add("after-room");
                    break;
                }

                await ApiClient.AssertProblemAsync(after, HttpStatusCode.ServiceUnavailable, "unavailable");
                await Task.Delay(50, deadline.Token);
            }

            await SendBatchAsync(server.Client, poll, 1000, acked);
            await server.KillAsync();
        }

        // After a SIGKILL: exactly the acknowledged votes, none of the refused ones.
        await using var restarted = await ServerProcess.StartAsync(disk.Path);
        var final = await restarted.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{poll}/results");
        Assert.Equal(acked.Count, (long)final!["totalVotes"]!);
        Assert.True(refused > 0);
        var (exitCode, output) = await ServerProcess.VerifyAsync(restarted.BaseAddress);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task A_read_only_data_folder_is_refused_at_start_with_a_clear_message_and_nothing_is_lost()
    {
        using var disk = SmallDisk.Mount(mebibytes: 64);
        var acked = new HashSet<string>(StringComparer.Ordinal);
        string poll;
        await using (var server = await ServerProcess.StartAsync(disk.Path))
        {
            poll = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
            await SendBatchAsync(server.Client, poll, 0, acked);
            Assert.Equal(0, await server.TerminateAsync());
        }

        disk.SetReadOnly(true);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ServerProcess.StartAsync(disk.Path));
        Assert.Contains($"The data folder {disk.Path} cannot be written (Read-only file system", refused.Message, StringComparison.Ordinal);

        disk.SetReadOnly(false);
        await using var restarted = await ServerProcess.StartAsync(disk.Path);
        var final = await restarted.Client.GetFromJsonAsync<JsonObject>($"/v1/polls/{poll}/results");
        Assert.Equal(acked.Count, (long)final!["totalVotes"]!);
    }

    [Fact]
    public async Task A_database_with_a_torn_last_page_is_refused_at_start_never_served_with_a_wrong_tally()
    {
        var data = Directory.CreateTempSubdirectory("tally-torn-").FullName;
        try
        {
            string poll;
            var acked = new HashSet<string>(StringComparer.Ordinal);
            await using (var server = await ServerProcess.StartAsync(data))
            {
                poll = (string)(await server.Admin.CreatePollAsync(options: 2))["id"]!;
                for (var batch = 0; batch < 5; batch++)
                {
                    await SendBatchAsync(server.Client, poll, batch, acked);
                }

                Assert.Equal(0, await server.TerminateAsync()); // a clean stop: the WAL is checkpointed into the file
            }

            var file = Path.Combine(data, "tally.db");
            var length = new FileInfo(file).Length;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
            {
                stream.SetLength(length - 4096); // the last page torn off, as a failing disk or a bad copy leaves it
            }

            var refused = await Assert.ThrowsAnyAsync<Exception>(() => ServerProcess.StartAsync(data));
            Assert.Contains($"The database {file} is damaged", refused.Message, StringComparison.Ordinal);
            Assert.Contains("does not start on it rather than serve a tally it cannot trust", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>One batch of 2,000 new voters: adds the counted ones to <paramref name="acked"/>; the refused ones must be `unavailable`.</summary>
    internal static async Task<(int Counted, int Unavailable)> SendBatchAsync(HttpClient client, string poll, int batch, HashSet<string> acked)
    {
        var voters = Enumerable.Range(0, 2000).Select(i => $"b{batch}-v{i}-{new string('x', 40)}").ToArray();
        using var response = await client.PostAsJsonAsync("/v1/votes/batch", new { votes = voters.Select((v, i) => new { pollId = poll, optionIds = new[] { 1 + (i % 2) }, voterId = v, idempotencyKey = "k-" + v }) });
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            await ApiClient.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "unavailable"); // the whole batch refused: nothing counted
            return (0, voters.Length);
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.ReadJsonAsync())["results"]!.AsArray();
        var counted = 0;
        var unavailable = 0;
        for (var i = 0; i < voters.Length; i++)
        {
            var status = (string)results[i]!["status"]!;
            if (status == "counted")
            {
                acked.Add(voters[i]);
                counted++;
            }
            else
            {
                Assert.Equal(("rejected", "urn:tally:problem:unavailable"), (status, (string?)results[i]!["error"]!["type"]));
                unavailable++;
            }
        }

        return (counted, unavailable);
    }
}
