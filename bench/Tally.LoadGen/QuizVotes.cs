using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary>
/// A quiz night at full speed: one event with <see cref="Participants"/> participants (joined before the run) and
/// <see cref="QuestionCount"/> quiz questions. Each loop answers for its share of the participants, question after question;
/// the last loop to finish a question shows the next one (as a presenter would, which locks the one before), and the
/// others wait for it. Every answer is a <c>POST /v1/polls/{question}/votes</c> by a joined participant that the server
/// scores on the event's leaderboard (10,000 entries, ranked) in the same commit.
/// </summary>
internal sealed class QuizVotes : Workload
{
    public const int Participants = 10_000;
    public const int QuestionCount = 100;
    private const int Options = 4;
    private readonly TallyApi _api;
    private readonly string _eventId;
    private readonly int _loops;
    private readonly Uri[] _uris;
    private readonly byte[][][] _bodies; // [participant][option - 1]
    private readonly TaskCompletionSource[] _shown;
    private readonly int[] _remaining; // loops still answering each question

    private QuizVotes(TallyApi api, Uri baseUrl, string eventId, int loops)
    {
        _api = api;
        _eventId = eventId;
        _loops = loops;
        Questions = [.. Enumerable.Range(1, QuestionCount).Select(q => $"{eventId}q{q}")];
        _uris = [.. Questions.Select(q => new Uri(baseUrl, $"/v1/polls/{q}/votes"))];
        _bodies = [.. Enumerable.Range(0, Participants).Select(p => Enumerable.Range(1, Options)
            .Select(o => Encoding.UTF8.GetBytes($$"""{"optionIds":[{{o}}],"voterId":"p{{p}}"}""")).ToArray())];
        _shown = [.. Enumerable.Range(0, QuestionCount + 1).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        _remaining = [.. Enumerable.Range(0, QuestionCount + 1).Select(_ => loops)];
        _shown[1].SetResult(); // shown by PrepareAsync
    }

    public IReadOnlyList<string> Questions { get; }

    public override int VotesPerRequest => 1;

    /// <summary>Creates the event, joins every participant (64 at a time), starts it and shows question 1.</summary>
    public static async Task<QuizVotes> PrepareAsync(TallyApi api, Uri baseUrl, int loops, CancellationToken cancellationToken)
    {
        var questions = string.Join(',', Enumerable.Range(1, QuestionCount).Select(q =>
            $$"""{"question":"Q{{q}}","kind":"quiz","options":["A","B","C","D"],"correct":[{{1 + (q % Options)}}],"timeLimitSeconds":600}"""));
        var created = await api.PostAsync("/v1/events", $$"""{"title":"bench quiz","streakBonus":100,"voterIdentity":"client","questions":[{{questions}}]}""", cancellationToken, HttpStatusCode.Created);
        using var json = JsonDocument.Parse(created);
        var eventId = json.RootElement.GetProperty("id").GetString()!;
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, Participants), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (p, ct) =>
            await api.PostAsync($"/v1/events/{eventId}/join", $$"""{"name":"Player {{p}}","voterId":"p{{p}}"}""", ct, asAdmin: false));
        Console.WriteLine($"quiz: event {eventId}, {Participants:N0} participants joined in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
        await api.PostAsync($"/v1/events/{eventId}/start", null, cancellationToken);
        await api.PostAsync($"/v1/events/{eventId}/questions/1/show", null, cancellationToken);
        return new QuizVotes(api, baseUrl, eventId, loops);
    }

    private int Share(int loop) => (Participants / _loops) + (loop < Participants % _loops ? 1 : 0);

    public override async ValueTask BeforeAsync(int loop, long request, long until, CancellationToken cancellationToken)
    {
        var share = Share(loop);
        var question = (int)(request / share) + 1;
        if (request % share != 0 || question == 1 || question > QuestionCount)
        {
            return;
        }

        if (Interlocked.Decrement(ref _remaining[question - 1]) == 0)
        {
            await _api.PostAsync($"/v1/events/{_eventId}/questions/{question}/show", null, cancellationToken); // the last one done shows the next
            _shown[question].TrySetResult();
        }

        var wait = until - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            try
            {
                await _shown[question].Task.WaitAsync(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken);
            }
            catch (TimeoutException)
            {
                // The window ended while another loop had not finished the question: the loop stops at its next check.
            }
        }
    }

    public override VoteRequest? Next(int loop, long request)
    {
        var share = Share(loop);
        var question = (int)(request / share) + 1;
        if (question > QuestionCount || !_shown[question].Task.IsCompleted)
        {
            return null;
        }

        var participant = loop + (int)(request % share * _loops);
        return new VoteRequest(_uris[question - 1], _bodies[participant][(participant + question) % Options], null);
    }

    public override Uri UriFor(int loop) => throw new NotSupportedException("QuizVotes answers through Next.");

    public override byte[] BodyFor(int loop, long request) => throw new NotSupportedException("QuizVotes answers through Next.");

    public override (long Counted, long NotCounted, string? Problem) ReadAck(int status, byte[] answer) =>
        status == 201 ? (1, 0, null) : (0, 1, $"an answer answered {status}, not 201: {Encoding.UTF8.GetString(answer)}");
}
