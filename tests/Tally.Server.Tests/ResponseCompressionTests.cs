using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Tally.Server.Tests.Infrastructure;

namespace Tally.Server.Tests;

/// <summary>Ordinary responses are compressed when the client asks; event streams never are.</summary>
public sealed class ResponseCompressionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly TestServer _server = fixture.Server;

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task Results_come_back_compressed_when_asked_and_decode_to_the_same_json(string encoding)
    {
        var poll = await _server.Admin.CreatePollAsync(options: 4);
        var id = (string)poll["id"]!;
        using (await _server.Client.VoteAsync(id, [2], "alice"))
        {
        }

        var plain = await _server.Client.GetStringAsync($"/v1/polls/{id}/results");

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/polls/{id}/results");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(encoding));
        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([encoding], response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync();
        var decoded = Decode(body, encoding);
        Assert.Equal(plain, decoded);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(plain), JsonNode.Parse(decoded)));
    }

    [Fact]
    public async Task Problems_are_compressed_too()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/polls/no-such-poll");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("br"));
        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(["br"], response.Content.Headers.ContentEncoding);
        var problem = JsonNode.Parse(Decode(await response.Content.ReadAsByteArrayAsync(), "br"))!;
        Assert.Equal("urn:tally:problem:poll-not-found", (string?)problem["type"]);
    }

    [Theory]
    [InlineData("/poll.js")]
    [InlineData("/poll.css")]
    [InlineData("/polls/anything")]
    public async Task The_results_page_is_compressed_when_asked(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var response = await _server.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        var text = Decode(await response.Content.ReadAsByteArrayAsync(), "gzip");
        Assert.True(text.Length > 500, text);
    }

    [Fact]
    public async Task Without_accept_encoding_nothing_is_compressed()
    {
        var poll = await _server.Admin.CreatePollAsync();
        using var response = await _server.Client.GetAsync($"/v1/polls/{(string)poll["id"]!}/results");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    [InlineData("gzip, deflate, br, zstd")]
    public async Task An_event_stream_is_never_compressed_and_still_streams(string acceptEncoding)
    {
        var poll = await _server.Admin.CreatePollAsync(options: 2);
        var id = (string)poll["id"]!;
        await using var sse = await SseClient.ConnectAsync(_server.Client, $"/v1/polls/{id}/events",
            configure: request => request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding));

        Assert.Equal(HttpStatusCode.OK, sse.Response.StatusCode);
        Assert.Equal("text/event-stream", sse.Response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(sse.Response.Content.Headers.ContentEncoding);

        // The snapshot arrives while the response is still open: nothing buffers it.
        Assert.Equal("snapshot", (await sse.NextAsync()).Name);

        using (await _server.Client.VoteAsync(id, [2], "alice"))
        {
        }

        var delta = await sse.NextAsync();
        while (delta.Name == "delta" && delta.Data["changes"]!.AsArray().Count == 0)
        {
            delta = await sse.NextAsync(); // a watcher-count update
        }

        Assert.Equal("delta", delta.Name);
        Assert.Equal(1, (long)delta.Data["totalVotes"]!);
        Assert.Equal(2, (int)delta.Data["changes"]![0]!["id"]!);
    }

    private static string Decode(byte[] body, string encoding)
    {
        using Stream decoder = encoding == "br"
            ? new BrotliStream(new MemoryStream(body), CompressionMode.Decompress)
            : new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(decoder, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
