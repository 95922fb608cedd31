using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.Server.Tests.Live;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests;

/// <summary>
/// One voter is one voterId after Unicode NFC, compared case-sensitively, over every transport that votes:
/// the composed and decomposed spellings of "émile" are one voter, "alice" and "Alice" two, and an id
/// with an invisible character is refused, never rewritten.
/// </summary>
public sealed class VoterIdentityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    public static TheoryData<string> Transports => new() { "http", "batch", LiveSocket.Json, LiveSocket.MessagePack, "grpc" };

    private TestServer Server => fixture.Server;

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_composed_and_decomposed_forms_of_an_id_are_one_voter(string transport)
    {
        var pollId = await CreatePollAsync();
        Assert.Equal("counted", await CastAsync(transport, pollId, "e\u0301mile")); // e + COMBINING ACUTE ACCENT
        Assert.Equal("already-voted", await CastAsync(transport, pollId, "\u00e9mile")); // é, precomposed
        Assert.Equal("already-voted", await CastAsync(transport, pollId, "e\u0301mile"));

        Assert.Equal("counted", await CastAsync(transport, pollId, "\u212bngstr\u00f6m")); // ANGSTROM SIGN: NFC makes it Å
        Assert.Equal("already-voted", await CastAsync(transport, pollId, "\u00c5ngstr\u00f6m"));
        Assert.Equal(2, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Ids_are_case_sensitive_and_ids_with_invisible_characters_are_refused(string transport)
    {
        var pollId = await CreatePollAsync();
        Assert.Equal("counted", await CastAsync(transport, pollId, "alice"));
        Assert.Equal("counted", await CastAsync(transport, pollId, "Alice"));
        Assert.Equal("validation", await CastAsync(transport, pollId, "alice "));
        Assert.Equal("validation", await CastAsync(transport, pollId, " alice"));
        Assert.Equal("validation", await CastAsync(transport, pollId, "ali\u200bce"));
        Assert.Equal("validation", await CastAsync(transport, pollId, "alice\u2060"));
        Assert.Equal(2, (long)(await Server.Client.ResultsAsync(pollId))["totalVotes"]!);
    }

    /// <summary>Casts one vote over <paramref name="transport"/>: "counted", or the problem type's slug.</summary>
    private async Task<string> CastAsync(string transport, string pollId, string voterId)
    {
        switch (transport)
        {
            case "http":
            {
                using var response = await Server.Client.VoteAsync(pollId, [1], voterId);
                var body = await response.Content.ReadFromJsonAsync<JsonObject>();
                return response.IsSuccessStatusCode ? (string)body!["status"]! : Slug((string?)body!["type"]);
            }

            case "batch":
            {
                var request = new JsonObject { ["votes"] = new JsonArray(new JsonObject { ["pollId"] = pollId, ["optionIds"] = new JsonArray(1), ["voterId"] = voterId }) };
                using var response = await Server.Client.PostRawAsync("/v1/votes/batch", request.ToJsonString());
                var result = (await response.Content.ReadFromJsonAsync<JsonObject>())!["results"]![0]!;
                return result["error"] is { } error ? Slug((string?)error["type"]) : (string)result["status"]!;
            }

            case "grpc":
            {
                using var channel = GrpcChannel.ForAddress(Server.GrpcAddress);
                try
                {
                    var reply = await new LiveClient(channel).VoteAsync(
                        new Tally.V1.VoteRequest { PollId = pollId, OptionIds = { 1 }, VoterId = voterId },
                        deadline: DateTime.UtcNow.Add(TestServer.Timeout));
                    return reply.Status == Tally.V1.VoteStatus.Counted ? "counted" : reply.Status.ToString();
                }
                catch (RpcException ex)
                {
                    return Slug(ex.Trailers.GetValue("tally-problem-type"));
                }
            }

            default:
            {
                await using var socket = await LiveSocket.ConnectAsync(Server, transport);
                await socket.VoteAsync(pollId, [1], voterId, "r");
                var answer = await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "r");
                return (string?)answer["type"] == "ack" ? (string)answer["status"]! : Slug((string?)answer["error"]!["type"]);
            }
        }
    }

    private static string Slug(string? type) => type?.Replace("urn:tally:problem:", "", StringComparison.Ordinal) ?? "?";

    private async Task<string> CreatePollAsync() => (string)(await Server.Admin.CreatePollAsync(options: 2))["id"]!;
}
