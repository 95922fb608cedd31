using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// <c>ingest-ws</c>: one loop per WebSocket (<c>/v1/ws</c>, <c>tally.json.v1</c>) sending <c>{"op":"vote",…}</c> and waiting
/// for its <c>ack</c> (or <c>error</c>) before the next, as <see cref="SingleVotes"/> loops do over HTTP.
/// </summary>
internal static class WebSocketVotes
{
    private const int Bodies = 256;

    public static async Task LoopAsync(Uri baseUrl, string pollId, int loop, LoopStats stats, MeasuredWindow window, long cap, CancellationToken hardStop)
    {
        var bodies = Enumerable.Range(0, Bodies)
            .Select(n => Encoding.UTF8.GetBytes($$"""{"op":"vote","pollId":"{{pollId}}","optionIds":[{{1 + (n % 3)}}],"voterId":"w{{loop}}-{{n}}","requestId":"{{n}}"}"""))
            .ToArray();
        var socket = new ClientWebSocket(); // disposed by WebSocketMessages.CloseAsync
        socket.Options.AddSubProtocol(WebSocketWatcher.Subprotocol);
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(new UriBuilder(baseUrl) { Scheme = "ws", Path = "/v1/ws" }.Uri, hardStop);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            stats.Errors++;
            stats.FirstProblem ??= $"connecting a WebSocket failed: {ex.Message}";
            socket.Dispose();
            return;
        }

        var messages = new WebSocketMessages(socket, "a vote socket");
        for (long n = 0; n < cap && !hardStop.IsCancellationRequested && Stopwatch.GetTimestamp() < window.End; n++)
        {
            stats.Sent++;
            var t0 = Stopwatch.GetTimestamp();
            ReadOnlyMemory<byte> answer;
            try
            {
                await socket.SendAsync(bodies[n % Bodies], WebSocketMessageType.Text, endOfMessage: true, hardStop);
                (answer, _) = await messages.ReadAsync(hardStop);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                stats.Indeterminate++; // no answer: the vote may or may not be counted
                stats.FirstProblem ??= $"no answer: {ex.GetType().Name}: {ex.Message}";
                break; // the socket is gone
            }

            var t1 = Stopwatch.GetTimestamp();
            var (type, status) = Read(answer.Span);
            if (type == "ack")
            {
                stats.AckedVotes++;
                if (t1 >= window.Start && t1 <= window.End)
                {
                    stats.WindowRequests++;
                    stats.WindowVotes++;
                    stats.Latency.RecordValue(Math.Clamp((t1 - t0) * 1_000_000 / Stopwatch.Frequency, 1, LoopStats.MaxMicroseconds));
                }
            }
            else if (status == "urn:tally:problem:overloaded")
            {
                stats.Overloaded++;
            }
            else
            {
                stats.Errors++;
                stats.FirstProblem ??= "answered: " + Encoding.UTF8.GetString(answer.Span[..Math.Min(answer.Length, 400)]);
            }
        }

        await WebSocketMessages.CloseAsync(socket);
    }

    /// <summary>The message's <c>type</c>, and for an error its problem <c>type</c>.</summary>
    private static (string? Type, string? Problem) Read(ReadOnlySpan<byte> json)
    {
        string? type = null, problem = null;
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName)
            {
                continue;
            }

            if (reader.CurrentDepth == 1 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = reader.GetString();
            }
            else if (reader.CurrentDepth == 2 && reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                problem = reader.GetString();
            }
        }

        return (type, problem);
    }
}
