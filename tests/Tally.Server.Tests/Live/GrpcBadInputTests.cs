using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Tally.Server.Tests.Infrastructure;
using Tally.V1;
using LiveClient = Tally.V1.Live.LiveClient;

namespace Tally.Server.Tests.Live;

/// <summary>
/// What an attacker can send gRPC <c>tally.v1.Live</c>: bytes that are no protobuf message, messages over
/// the size limit, and poll ids of any length. Each gets a short status of its own (never UNKNOWN), logs at
/// most one short line without a stack trace, and leaves the connection usable for the next call.
/// </summary>
public sealed class GrpcBadInputTests : IAsyncLifetime
{
    /// <summary>Bytes as they are: the request goes out exactly as the test wrote it.</summary>
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(static bytes => bytes, static bytes => bytes);

    private static readonly Method<byte[], byte[]> RawVote = new(MethodType.Unary, "tally.v1.Live", "Vote", Raw, Raw);

    private static readonly Method<byte[], byte[]> RawWatch = new(MethodType.ServerStreaming, "tally.v1.Live", "Watch", Raw, Raw);

    private readonly CapturedLogs _logs = new();
    private TestServer _server = null!;
    private GrpcChannel _channel = null!;
    private string _pollId = null!;

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "varint of 11 bytes", [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] },
        { "varint cut off", [0x10, 0xFF] },
        { "string longer than the message", [0x0A, 0x05, 0x61] },
        { "length beyond the message", [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x07] },
        { "invalid UTF-8 in a string", [0x0A, 0x02, 0xC3, 0x28] },
        { "wire type 6", [0x0E, 0x01] },
        { "group start without end", [0x0B] },
        { "field number 0", [0x00, 0x01] },
    };

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(CapturedLogs.ProductionLevels, _logs.Configure);
        _channel = GrpcChannel.ForAddress(_server.GrpcAddress);
        _pollId = (string)(await _server.Admin.CreatePollAsync(options: 2))["id"]!;
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_vote_request_is_invalid_argument_with_one_short_log_line(string name, byte[] request)
    {
        _logs.Clear();
        var ex = await Assert.ThrowsAsync<RpcException>(() => VoteRawAsync(request));

        Assert.True(ex.StatusCode == StatusCode.InvalidArgument, $"{name}: {ex.Status}");
        Assert.Equal("urn:tally:problem:invalid-message", ex.Trailers.GetValue("tally-problem-type"));
        Assert.Contains("tally.v1.VoteRequest", ex.Status.Detail, StringComparison.Ordinal);
        Assert.True(ex.Status.Detail.Length < 120, ex.Status.Detail);
        await AssertStillServesAsync();
        AssertQuietLogs(name);
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_watch_request_is_invalid_argument_with_one_short_log_line(string name, byte[] request)
    {
        _logs.Clear();
        using var call = _channel.CreateCallInvoker().AsyncServerStreamingCall(RawWatch, null, Options(), request);
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.True(ex.StatusCode == StatusCode.InvalidArgument, $"{name}: {ex.Status}");
        Assert.Equal("urn:tally:problem:invalid-message", ex.Trailers.GetValue("tally-problem-type"));
        Assert.Contains("tally.v1.WatchRequest", ex.Status.Detail, StringComparison.Ordinal);
        await AssertStillServesAsync();
        AssertQuietLogs(name);
    }

    [Theory]
    [InlineData(5 * 1024)]
    [InlineData(65_000)]
    [InlineData(1024 * 1024)]
    public async Task A_request_over_4_KiB_is_refused_before_it_is_read(int pollIdLength)
    {
        _logs.Clear();
        var request = new VoteRequest { PollId = new string('p', pollIdLength), OptionIds = { 1 }, VoterId = "big" }.ToByteArray();

        var ex = await Assert.ThrowsAsync<RpcException>(() => VoteRawAsync(request));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.True(ex.Status.Detail.Length < 120, ex.Status.Detail);
        await AssertStillServesAsync();
        AssertQuietLogs("oversize");
    }

    [Theory]
    [InlineData(65)]
    [InlineData(3_000)]
    public async Task A_poll_id_of_another_shape_is_not_found_with_the_id_clipped(int length)
    {
        _logs.Clear();
        var pollId = new string('q', length);
        var client = new LiveClient(_channel);

        var vote = await Assert.ThrowsAsync<RpcException>(() => client.VoteAsync(new VoteRequest { PollId = pollId, OptionIds = { 1 }, VoterId = "v" }, deadline: Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, vote.StatusCode);
        Assert.Equal("urn:tally:problem:poll-not-found", vote.Trailers.GetValue("tally-problem-type"));
        Assert.True(vote.Status.Detail.Length < 70, vote.Status.Detail);

        using var watch = client.Watch(new WatchRequest { PollId = pollId + "-" }, deadline: Deadline());
        var watched = await Assert.ThrowsAsync<RpcException>(() => watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.NotFound, watched.StatusCode);
        Assert.True(watched.Status.Detail.Length < 70, watched.Status.Detail);

        await AssertStillServesAsync();
        AssertQuietLogs("poll id", allowed: 2);
        Assert.All(_logs.Entries, e => Assert.DoesNotContain(new string('q', 41), e.Message, StringComparison.Ordinal));
    }

    private static CallOptions Options() => new(deadline: Deadline());

    private static DateTime Deadline() => DateTime.UtcNow.Add(TestServer.Timeout);

    private Task<byte[]> VoteRawAsync(byte[] request) =>
        _channel.CreateCallInvoker().AsyncUnaryCall(RawVote, null, Options(), request).ResponseAsync;

    /// <summary>The same connection takes the next call at once: nothing is stuck on it.</summary>
    private async Task AssertStillServesAsync()
    {
        var reply = await new LiveClient(_channel).VoteAsync(
            new VoteRequest { PollId = _pollId, OptionIds = { 1 }, VoterId = "after-" + Guid.NewGuid() },
            deadline: DateTime.UtcNow.AddSeconds(10));
        Assert.Equal(VoteStatus.Counted, reply.Status);
    }

    /// <summary>At most <paramref name="allowed"/> lines about the bad calls, each short, none with an exception or a stack trace.</summary>
    private void AssertQuietLogs(string name, int allowed = 1)
    {
        var entries = _logs.Entries.ToList();
        var all = string.Join("\n", entries);
        Assert.True(entries.Count <= allowed, $"{name}: {entries.Count} log lines:\n{all}");
        Assert.All(entries, e => Assert.Null(e.Exception));
        Assert.DoesNotContain("   at ", all, StringComparison.Ordinal);
        Assert.True(entries.Sum(e => e.Length) <= 300 * allowed, $"{name}: {entries.Sum(e => e.Length)} chars of log:\n{all}");
    }
}
