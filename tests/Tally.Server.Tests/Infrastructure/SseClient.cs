using System.Net;
using System.Text.Json.Nodes;

namespace Tally.Server.Tests.Infrastructure;

/// <summary>A server-sent-events reader over HttpClient, parsing as a browser's EventSource does (event, id, data).</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseClient(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body);
    }

    public HttpResponseMessage Response => _response;

    /// <param name="configure">Changes the request before it is sent (e.g. adds <c>Accept-Encoding</c>).</param>
    public static async Task<SseClient> ConnectAsync(HttpClient client, string path, string? lastEventId = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        configure?.Invoke(request);

        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            // A refusal's problem body would otherwise be read as a stream that ends: say what the server answered.
            using (response)
            {
                var body = await response.Content.ReadAsStringAsync(timeout.Token);
                throw new HttpRequestException($"GET {path} answered {(int)response.StatusCode}, not an event stream: {body}", null, response.StatusCode);
            }
        }

        return new SseClient(response, await response.Content.ReadAsStreamAsync(timeout.Token));
    }

    /// <summary>
    /// As <see cref="ConnectAsync"/>, on a cluster node that may not serve the poll yet: retried while the node answers
    /// 404 (its catalog has not read the poll's creation yet) or 503 (the poll's partition has no owner yet, during a
    /// rebalance), until <see cref="TestServer.Timeout"/>.
    /// </summary>
    public static async Task<SseClient> ConnectWhenServedAsync(HttpClient client, string path, string? lastEventId = null)
    {
        using var deadline = new CancellationTokenSource(TestServer.Timeout);
        while (true)
        {
            try
            {
                return await ConnectAsync(client, path, lastEventId);
            }
            catch (HttpRequestException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.ServiceUnavailable && !deadline.IsCancellationRequested)
            {
                await Task.Delay(10, deadline.Token);
            }
        }
    }

    /// <summary>The next event (comments skipped), or a timeout.</summary>
    /// <param name="silence">When given, the longest wait for any line (a heartbeat comment counts): a stream silent for
    /// longer is taken for dead, as a client with a heartbeat watchdog does; the whole wait is bounded by
    /// <see cref="TestServer.Timeout"/> either way.</param>
    public async Task<SseEvent> NextAsync(TimeSpan? silence = null)
    {
        using var timeout = new CancellationTokenSource(TestServer.Timeout);
        string? name = null, id = null, data = null;
        while (true)
        {
            using var lineTimeout = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            if (silence is { } limit)
            {
                lineTimeout.CancelAfter(limit);
            }

            var line = await _reader.ReadLineAsync(lineTimeout.Token) ?? throw new EndOfStreamException("The event stream ended.");
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return new SseEvent(name ?? "message", id, JsonNode.Parse(data)!.AsObject());
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "event":
                    name = value;
                    break;
                case "id":
                    id = value;
                    break;
                case "data":
                    data = data is null ? value : data + "\n" + value;
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        await Task.CompletedTask;
    }
}

public sealed record SseEvent(string Name, string? Id, JsonObject Data)
{
    public long Seq => (long)Data["seq"]!;
}
