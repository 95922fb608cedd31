using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// Votes on one poll on a fixed schedule (open loop): vote i is due at start + i / rate whatever the
/// earlier answers did; K sender loops share the schedule (loop k sends votes k, k + K, …), so a slow
/// answer delays at most its own loop's next vote. Each vote's send and ack timestamps and the seq its
/// ack returned are kept by index; a loop writes only its own indices, so no locks.
/// </summary>
internal sealed class PacedVotes
{
    private static readonly byte[][] s_bodies = [.. Enumerable.Range(1, 3).Select(option => Encoding.UTF8.GetBytes($$"""{"optionIds":[{{option}}]}"""))];

    private readonly long[] _sentAt;
    private readonly long[] _ackedAt;
    private readonly long[] _seq;
    private readonly long[] _lateness;
    private long _sentSoFar;

    public PacedVotes(long count)
    {
        _sentAt = new long[count];
        _ackedAt = new long[count];
        _seq = new long[count];
        _lateness = new long[count];
    }

    public long Count => _sentAt.Length;

    public long Sent { get; private set; }

    /// <summary>Votes sent so far, while the run goes on (for progress).</summary>
    public long SentSoFar => Interlocked.Read(ref _sentSoFar);

    /// <summary>Non-201 answers.</summary>
    public long Errors { get; private set; }

    /// <summary>Requests with no answer (transport error, timeout): they may or may not have been counted.</summary>
    public long Unanswered { get; private set; }

    /// <summary>Votes of the schedule never sent because the senders fell too far behind (see <see cref="RunAsync"/>).</summary>
    public long Unsent { get; private set; }

    public string? FirstProblem { get; private set; }

    /// <summary>Vote i: when it was sent, how late that was against its due time, when its ack arrived, and the seq the ack returned (0 when it was not acknowledged).</summary>
    public (long SentAt, long Lateness, long AckedAt, long Seq) this[long i] => (_sentAt[i], _lateness[i], _ackedAt[i], _seq[i]);

    /// <summary>Sends the schedule: vote i goes to <c>votesUris[i mod n]</c>.</summary>
    /// <remarks>
    /// A loop that falls so far behind that a vote would go out after <paramref name="sendBy"/> (a Stopwatch timestamp) stops:
    /// the votes it did not send are counted in <see cref="Unsent"/>, so an overloaded machine cannot stretch a run.
    /// </remarks>
    public async Task RunAsync(HttpClient client, Uri[] votesUris, long start, double rate, int senders, long sendBy, CancellationToken hardStop)
    {
        var stats = new SenderStats[senders];
        var loops = new Task[senders];
        for (var k = 0; k < senders; k++)
        {
            var loop = k;
            stats[loop] = new SenderStats();
            loops[loop] = Task.Run(() => LoopAsync(client, votesUris, start, rate, loop, senders, sendBy, stats[loop], hardStop), CancellationToken.None);
        }

        await Task.WhenAll(loops);
        foreach (var s in stats)
        {
            Sent += s.Sent;
            Errors += s.Errors;
            Unanswered += s.Unanswered;
            Unsent += s.Unsent;
            FirstProblem ??= s.FirstProblem;
        }
    }

    private async Task LoopAsync(HttpClient client, Uri[] uris, long start, double rate, int loop, int senders, long sendBy, SenderStats stats, CancellationToken hardStop)
    {
        for (long i = loop; i < _sentAt.Length && !hardStop.IsCancellationRequested; i += senders)
        {
            var due = start + (long)(i * Stopwatch.Frequency / rate);
            try
            {
                await MeasuredWindow.DelayUntilAsync(due, hardStop);
            }
            catch (OperationCanceledException)
            {
                break; // the hard stop: the run is over
            }

            if (Stopwatch.GetTimestamp() > sendBy)
            {
                stats.Unsent += (_sentAt.Length - 1 - i) / senders + 1; // this one and the rest of this loop's share
                stats.FirstProblem ??= "the senders fell behind the schedule past the measured window: the rest of the votes were not sent";
                break;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, uris[i % uris.Length]) { Content = new ByteArrayContent(s_bodies[i % s_bodies.Length]) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            var sentAt = Stopwatch.GetTimestamp();
            _sentAt[i] = sentAt;
            _lateness[i] = Math.Max(0, sentAt - due);
            stats.Sent++;
            Interlocked.Increment(ref _sentSoFar);
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, hardStop);
                var answer = await response.Content.ReadAsByteArrayAsync(hardStop);
                var ackedAt = Stopwatch.GetTimestamp();
                if ((int)response.StatusCode != 201)
                {
                    stats.Errors++;
                    stats.FirstProblem ??= $"a vote answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer[..Math.Min(answer.Length, 400)])}";
                    continue;
                }

                _ackedAt[i] = ackedAt;
                _seq[i] = ReadSeq(answer);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                stats.Unanswered++;
                stats.FirstProblem ??= $"no answer: {ex.GetType().Name}: {ex.Message}";
            }
        }
    }

    /// <summary>The <c>seq</c> of a 201 answer <c>{voteId, seq, status}</c>.</summary>
    private static long ReadSeq(byte[] answer)
    {
        var reader = new Utf8JsonReader(answer);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("seq"u8))
            {
                reader.Read();
                return reader.GetInt64();
            }
        }

        throw new InvalidDataException("A vote's 201 answer has no seq: " + Encoding.UTF8.GetString(answer));
    }

    private sealed class SenderStats
    {
        public long Sent;
        public long Errors;
        public long Unanswered;
        public long Unsent;
        public string? FirstProblem;
    }
}
