using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Tally.LoadGen;

/// <summary><c>GET /v1/polls/{id}/events</c>: reads <c>text/event-stream</c> and hands each event's <c>data:</c> line to the watcher.</summary>
internal sealed class SseWatcher(HttpClient client, Uri baseUrl, string pollId) : Watcher(pollId)
{
    /// <summary>A larger event than this means something is wrong (a snapshot of a 3-option poll is ~200 bytes).</summary>
    private const int MaxEventBytes = 1 << 20;

    private HttpResponseMessage? _response;
    private Stream? _body;

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, $"/v1/polls/{PollId}/events"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        _response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (_response.StatusCode != HttpStatusCode.OK)
        {
            var text = await _response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"GET /v1/polls/{PollId}/events answered {(int)_response.StatusCode}: {text}");
        }

        _body = await _response.Content.ReadAsStreamAsync(cancellationToken);
    }

    protected override async Task ReadAsync(CancellationToken cancellationToken)
    {
        var body = _body ?? throw new InvalidOperationException("Not open.");
        var buffer = new byte[2048];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxEventBytes)
                {
                    throw new InvalidDataException($"An event of poll {PollId} is longer than {MaxEventBytes} bytes.");
                }

                Array.Resize(ref buffer, buffer.Length * 2);
            }

            var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            var receivedAt = Stopwatch.GetTimestamp();
            if (read == 0)
            {
                return;
            }

            filled += read;
            var consumed = 0;
            while (buffer.AsSpan(consumed, filled - consumed).IndexOf("\n\n"u8) is var end and >= 0)
            {
                OnEvent(buffer.AsSpan(consumed, end), receivedAt);
                consumed += end + 2;
            }

            if (consumed > 0)
            {
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
    }

    protected override ValueTask CloseAsync()
    {
        _response?.Dispose(); // aborts the connection: the body was not read to its end
        return ValueTask.CompletedTask;
    }

    /// <summary>One event's lines (<c>event:</c>, <c>id:</c>, <c>data:</c>, or a <c>:</c> comment); the server sends one data line.</summary>
    private void OnEvent(ReadOnlySpan<byte> lines, long receivedAt)
    {
        while (lines.Length > 0)
        {
            var newline = lines.IndexOf((byte)'\n');
            var line = newline < 0 ? lines : lines[..newline];
            lines = newline < 0 ? [] : lines[(newline + 1)..];
            if (line.StartsWith("data:"u8))
            {
                var data = line[5..];
                OnMessage(data.Length > 0 && data[0] == (byte)' ' ? data[1..] : data, receivedAt);
            }
        }
    }
}
