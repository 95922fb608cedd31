using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using Tally.Testing;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests;

/// <summary>Ranking polls through the real server: Borda scores as the options' votes and the instant runoff, on every transport.</summary>
public sealed class RankingKindTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.GrpcAddress);

    private TestServer Server => fixture.Server;

    public void Dispose() => _channel.Dispose();

    private async Task<string> CreateAsync(int? maxChoices = null) =>
        (string)(await Server.Admin.CreatePollAsync(new { question = "Which order?", kind = "ranking", options = new[] { "Alpha", "Beta", "Gamma" }, maxChoices }))["id"]!;

    /// <summary>5 × A>B>C, 4 × B>C>A, 3 × C>B>A: Borda A 22, B 28, C 22; the runoff drops C and B wins 7 to 5.</summary>
    private async Task<long> CastTheWorkedExampleAsync(string id)
    {
        long seq = 0;
        var voter = 0;
        foreach (var (ranking, count) in new[] { (new[] { 1, 2, 3 }, 5), ([2, 3, 1], 4), ([3, 2, 1], 3) })
        {
            for (var i = 0; i < count; i++)
            {
                using var vote = await Server.Client.VoteAsync(id, ranking, "voter" + voter++);
                Assert.Equal(HttpStatusCode.Created, vote.StatusCode);
                seq = (long)(await vote.ReadJsonAsync())["seq"]!;
            }
        }

        return seq;
    }

    /// <summary>
    /// The results once they reach <paramref name="seq"/>: a ranking poll's results are published at most every 250 ms
    /// (Tally:Engine:RankingPublishDelay), so right after a quick run of votes they may still be at an earlier seq.
    /// </summary>
    private async Task<JsonObject> ResultsAtAsync(string id, long seq)
    {
        JsonObject results = null!;
        await Eventually.WaitUntilAsync(async () => (long)(results = await Server.Client.ResultsAsync(id))["seq"]! >= seq, TestServer.Timeout);
        return results;
    }

    [Fact]
    public async Task The_results_give_borda_scores_as_votes_and_every_runoff_round()
    {
        var id = await CreateAsync();
        var seq = await CastTheWorkedExampleAsync(id);

        var results = await ResultsAtAsync(id, seq);

        Assert.Equal(12, (long)results["totalVotes"]!);
        Assert.Equal(new Dictionary<int, long> { [1] = 22, [2] = 28, [3] = 22 }, ApiClient.Counts(results));
        var ranking = results["ranking"]!;
        Assert.Equal(12, (long)ranking["ballots"]!);
        Assert.Equal("borda", (string?)ranking["scores"]);
        var runoff = ranking["instantRunoff"]!;
        Assert.Equal(2, (int)runoff["winner"]!);
        var rounds = runoff["rounds"]!.AsArray();
        Assert.Equal(2, rounds.Count);
        Assert.Equal(3, (int)rounds[0]!["eliminated"]!);
        Assert.Equal("""[{"id":2,"votes":3}]""", rounds[0]!["transfers"]!.ToJsonString());
        Assert.Equal(0, (long)rounds[0]!["transferredToExhausted"]!);
        Assert.Equal("""[{"id":1,"votes":5},{"id":2,"votes":7}]""", rounds[1]!["votes"]!.ToJsonString());
        Assert.Null(rounds[1]!["eliminated"]);
    }

    [Fact]
    public async Task A_ranking_longer_than_max_choices_or_naming_an_option_twice_is_refused()
    {
        var id = await CreateAsync(maxChoices: 2);

        using (var tooLong = await Server.Client.VoteAsync(id, [1, 2, 3], "a"))
        {
            await ApiClient.AssertProblemAsync(tooLong, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var twice = await Server.Client.VoteAsync(id, [2, 2], "b"))
        {
            await ApiClient.AssertProblemAsync(twice, HttpStatusCode.UnprocessableEntity, "validation");
        }

        using (var value = await Server.Client.PostAsJsonAsync($"/v1/polls/{id}/votes", new { value = 1, voterId = "c" }))
        {
            await ApiClient.AssertProblemAsync(value, HttpStatusCode.UnprocessableEntity, "validation");
        }

        long seq;
        using (var top = await Server.Client.VoteAsync(id, [3, 1], "d"))
        {
            Assert.Equal(HttpStatusCode.Created, top.StatusCode);
            seq = (long)(await top.ReadJsonAsync())["seq"]!;
        }

        Assert.Equal(new Dictionary<int, long> { [1] = 2, [2] = 0, [3] = 3 }, ApiClient.Counts(await ResultsAtAsync(id, seq)));
    }

    [Fact]
    public async Task Watchers_on_sse_websocket_and_grpc_get_the_runoff_with_the_scores()
    {
        var id = await CreateAsync();
        await using var sse = await SseClient.ConnectAsync(Server.Client, $"/v1/polls/{id}/events");
        var snapshot = await sse.NextAsync();
        Assert.Null((int?)snapshot.Data["ranking"]!["instantRunoff"]!["winner"]);
        await using var socket = await LiveSocket.ConnectAsync(Server, LiveSocket.MessagePack);
        await socket.SubscribeAsync(id);
        await socket.ReceiveUntilAsync(m => (string?)m["type"] == "snapshot");
        using var grpc = new GrpcWatcher(new LiveClient(_channel), id);
        Assert.True((await grpc.NextAsync())!.Snapshot);

        var seq = await CastTheWorkedExampleAsync(id);

        SseEvent delta;
        do
        {
            delta = await sse.NextAsync();
        }
        while (delta.Seq < seq);

        Assert.Equal(2, (int)delta.Data["ranking"]!["instantRunoff"]!["winner"]!);
        Assert.Equal(28, (long)delta.Data["changes"]!.AsArray().Single(c => (int)c!["id"]! == 2)!["votes"]!);

        var message = await socket.ReceiveUntilAsync(m => (string?)m["type"] == "delta" && (long)m["seq"]! >= seq);
        Assert.Equal(2, (int)message["ranking"]!["instantRunoff"]!["winner"]!);
        Assert.Equal(3, (int)message["ranking"]!["instantRunoff"]!["rounds"]![0]!["eliminated"]!);

        await grpc.ReadUntilSeqAsync(seq);
        var update = grpc.Received[^1];
        Assert.Equal(2, update.Ranking.Winner);
        Assert.Equal(12, update.Ranking.Ballots);
        Assert.Equal([(1, 5L), (2, 7L)], update.Ranking.Rounds[1].Votes.Select(v => (v.Id, v.Votes)));
        Assert.Equal(28, grpc.Counts[2]);
    }
}
