using Microsoft.Extensions.DependencyInjection;
using Tally.Access;
using Tally.Server.Access;

namespace Tally.Server.Tests.Security;

/// <summary>
/// API keys on every transport: a vote on a <c>client</c> poll needs <c>votes:write</c> in the poll's workspace, a
/// read of a private poll needs <c>polls:read</c> (or a watch token for it). No credential, another workspace's key,
/// a key without the scope, a revoked key and an expired key are each refused the same way over HTTP, WebSocket
/// (JSON and MessagePack), SSE and gRPC.
/// </summary>
public sealed class CredentialTests(CredentialTests.Fixture fixture) : IClassFixture<CredentialTests.Fixture>
{
    private SecureServer Secure => fixture;

    [Theory]
    [MemberData(nameof(Transports.Voting), MemberType = typeof(Transports))]
    public async Task A_vote_needs_a_votes_write_key_of_the_polls_workspace(Via via)
    {
        var server = Secure.Server;
        Assert.Equal("unauthorized", await Transports.VoteAsync(server, via, fixture.ClientPoll, null, voterId: "v-" + via));
        Assert.Equal("poll-not-found", await Transports.VoteAsync(server, via, fixture.ClientPoll, fixture.OtherWriter, voterId: "v-" + via));
        Assert.Equal("forbidden", await Transports.VoteAsync(server, via, fixture.ClientPoll, fixture.Reader, voterId: "v-" + via));
        Assert.Equal("unauthorized", await Transports.VoteAsync(server, via, fixture.ClientPoll, fixture.Revoked, voterId: "v-" + via));
        Assert.Equal("unauthorized", await Transports.VoteAsync(server, via, fixture.ClientPoll, fixture.Expired, voterId: "v-" + via));
        Assert.Equal("unauthorized", await Transports.VoteAsync(server, via, fixture.ClientPoll, "tly_aaaaaaaaaaaa_" + new string('b', 32), voterId: "v-" + via));
        Assert.Equal("counted", await Transports.VoteAsync(server, via, fixture.ClientPoll, fixture.Writer, voterId: "v-" + via));
    }

    [Theory]
    [MemberData(nameof(Transports.Watching), MemberType = typeof(Transports))]
    public async Task A_private_poll_is_read_only_with_a_read_key_of_its_workspace_or_a_watch_token_for_it(Via via)
    {
        var server = Secure.Server;
        Assert.Equal("poll-not-found", await Transports.WatchAsync(server, via, fixture.PrivatePoll, null));
        Assert.Equal("poll-not-found", await Transports.WatchAsync(server, via, fixture.PrivatePoll, fixture.OtherReader));
        Assert.Equal("forbidden", await Transports.WatchAsync(server, via, fixture.PrivatePoll, fixture.Writer));
        Assert.Equal("unauthorized", await Transports.WatchAsync(server, via, fixture.PrivatePoll, fixture.Revoked));
        Assert.Equal("unauthorized", await Transports.WatchAsync(server, via, fixture.PrivatePoll, fixture.Expired));
        Assert.Equal("forbidden", await Transports.WatchAsync(server, via, fixture.PrivatePoll, fixture.WatchTokenOfAnotherPoll));
        Assert.Equal("ok", await Transports.WatchAsync(server, via, fixture.PrivatePoll, fixture.Reader));
        Assert.Equal("ok", await Transports.WatchAsync(server, via, fixture.PrivatePoll, fixture.WatchToken));
        Assert.Equal("ok", await Transports.WatchAsync(server, via, fixture.PrivatePoll, TestServerKey));
    }

    [Theory]
    [MemberData(nameof(Transports.Watching), MemberType = typeof(Transports))]
    public async Task A_public_poll_is_read_by_anyone_but_a_bad_credential_is_refused_not_ignored(Via via)
    {
        var server = Secure.Server;
        Assert.Equal("ok", await Transports.WatchAsync(server, via, fixture.ClientPoll, null));
        Assert.Equal("ok", await Transports.WatchAsync(server, via, fixture.ClientPoll, fixture.Writer));
        Assert.Equal("unauthorized", await Transports.WatchAsync(server, via, fixture.ClientPoll, fixture.Revoked));
        Assert.Equal("poll-not-found", await Transports.WatchAsync(server, via, fixture.ClientPoll, fixture.OtherReader));
    }

    [Theory]
    [InlineData(Via.WebSocketJson)]
    [InlineData(Via.WebSocketMessagePack)]
    public async Task A_key_revoked_while_its_socket_is_open_stops_working_on_that_socket(Via via)
    {
        var (key, id) = await Secure.CreateKeyAsync(fixture.Workspace, ["votes:write"]);
        var (socket, _) = await Transports.ConnectAsync(Secure.Server, via, key);
        await using (socket)
        {
            await socket!.SendAsync(VoteOp("r1", "open-" + via));
            Assert.Equal("ack", (string?)(await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "r1"))["type"]);

            await Secure.RevokeKeyAsync(fixture.Workspace, id);
            await socket.SendAsync(VoteOp("r2", "after-" + via));
            var refused = await socket.ReceiveUntilAsync(m => (string?)m["requestId"] == "r2");
            Assert.Equal("urn:tally:problem:unauthorized", (string?)refused["error"]?["type"]);
        }
    }

    private System.Text.Json.Nodes.JsonObject VoteOp(string requestId, string voterId) => new()
    {
        ["op"] = "vote",
        ["pollId"] = fixture.ClientPoll,
        ["optionIds"] = new System.Text.Json.Nodes.JsonArray(1),
        ["voterId"] = voterId,
        ["requestId"] = requestId,
    };

    private static string TestServerKey => Infrastructure.TestServer.AdminKey;

    public sealed class Fixture : SecureServer
    {
        public string ClientPoll { get; private set; } = null!;

        public string Workspace { get; private set; } = null!;

        public string PrivatePoll { get; private set; } = null!;

        public string Writer { get; private set; } = null!;

        public string Reader { get; private set; } = null!;

        public string Revoked { get; private set; } = null!;

        public string Expired { get; private set; } = null!;

        public string OtherWriter { get; private set; } = null!;

        public string OtherReader { get; private set; } = null!;

        public string WatchToken { get; private set; } = null!;

        public string WatchTokenOfAnotherPoll { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var workspace = Workspace = await CreateWorkspaceAsync();
            var other = await CreateWorkspaceAsync();
            (Writer, _) = await CreateKeyAsync(workspace, ["votes:write"]);
            (Reader, _) = await CreateKeyAsync(workspace, ["polls:read"]);
            var manager = (await CreateKeyAsync(workspace, ["polls:manage"])).Key;
            (OtherWriter, _) = await CreateKeyAsync(other, ["votes:write"]);
            (OtherReader, _) = await CreateKeyAsync(other, ["polls:read", "polls:manage"]);
            string revokedId;
            (Revoked, revokedId) = await CreateKeyAsync(workspace, ["votes:write", "polls:read"]);
            await RevokeKeyAsync(workspace, revokedId);
            Expired = await ExpiredKeyAsync(workspace);

            ClientPoll = await CreatePollAsync(voterIdentity: "client", credential: manager);
            PrivatePoll = await CreatePollAsync(voterIdentity: "client", access: "private", credential: manager);
            var anotherPrivate = await CreatePollAsync(voterIdentity: "client", access: "private", credential: manager);
            WatchToken = await WatchTokenAsync(PrivatePoll, Reader);
            WatchTokenOfAnotherPoll = await WatchTokenAsync(anotherPrivate, Reader);
        }

        /// <summary>A key whose expiry has passed: written to the store directly (the API refuses a past expiresAt).</summary>
        private async Task<string> ExpiredKeyAsync(string workspace)
        {
            var (id, key, hash) = ApiKeySecrets.Create();
            var now = DateTimeOffset.UtcNow;
            await Server.Services.GetRequiredService<IAccessStore>().CreateKeyAsync(
                new ApiKey(id, workspace, "expired", Scopes.VotesWrite | Scopes.PollsRead, hash, now.AddHours(-2), now.AddHours(-1)), default);
            Server.Services.GetRequiredService<AccessDirectory>().Invalidate();
            return key;
        }

        private async Task<string> WatchTokenAsync(string pollId, string reader)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/polls/{pollId}/watch-tokens");
            Transports.Authorize(request, reader);
            using var response = await Server.Client.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
            return (string)(await Infrastructure.ApiClient.ReadJsonAsync(response))["token"]!;
        }
    }
}
