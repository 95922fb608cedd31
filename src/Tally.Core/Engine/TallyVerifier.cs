using Tally.Events;
using Tally.Polls;
using Tally.Projections;

namespace Tally.Engine;

/// <summary>
/// Recomputes every poll's results from its durable log and compares them with what the engine serves: counts (Borda
/// scores on ranking polls), ballots counted, status, and the instant runoff. Each poll is compared at the seq the
/// engine served when it was read (the events through that seq folded into a fresh state), so votes arriving meanwhile
/// do not count as differences. A Q&amp;A poll's shown and held questions and its ranked top (upvotes, answered marks) are compared too. An event's live question and leaderboard are compared the same way, and every quiz answer is
/// scored again from its question's log (the showing's time, the answer's time, the correct options) and compared with the score
/// the event recorded for it. Works on any <see cref="ITallyEngine"/> (embedded, or a cluster node reading every partition).
/// </summary>
public static class TallyVerifier
{
    /// <summary>The most differences a report lists (it counts them all).</summary>
    public const int MaxListed = 100;

    public static async Task<VerifyReport> VerifyAsync(ITallyEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var differences = new List<VerifyDifference>();
        long polls = 0, events = 0, found = 0;
        string? cursor = null;
        do
        {
            var page = await engine.ListPollsAsync(null, 100, cursor, cancellationToken).ConfigureAwait(false);
            if (page.Value is not { } items)
            {
                // A cluster node lists through every partition's owner: while one changes hands there is none to ask.
                throw new VerifyUnavailableException(page.Rejection!);
            }

            foreach (var listed in items.Items)
            {
                // An event's questions are read before the event: every answer through their seqs has its score in the event's log by then.
                var questions = listed.Poll.Kind == Polls.PollKind.Event ? await QuestionsAsync(engine, listed.Poll, cancellationToken).ConfigureAwait(false) : [];

                // The latest committed results (a listing may be a cluster node's copy), then the log through their seq.
                var served = (await engine.GetResultsAsync(listed.Poll.Id, cancellationToken).ConfigureAwait(false)).Value ?? listed;
                polls++;
                var (recomputed, read, gap, scores) = await RecomputeAsync(engine, served, cancellationToken).ConfigureAwait(false);
                events += read;
                var differencesOfPoll = Compare(served, recomputed, gap);
                if (served.Poll.Kind == Polls.PollKind.Event)
                {
                    differencesOfPoll = differencesOfPoll.Concat(await RescoreAsync(engine, served, questions, scores, cancellationToken).ConfigureAwait(false));
                }

                foreach (var difference in differencesOfPoll)
                {
                    found++;
                    if (differences.Count < MaxListed)
                    {
                        differences.Add(difference);
                    }
                }
            }

            cursor = items.NextCursor;
        }
        while (cursor is not null);

        return new VerifyReport(polls, events, found, differences);
    }

    private static async Task<(PollResults Recomputed, long Events, string? Gap, List<ScoreAwarded> Scores)> RecomputeAsync(ITallyEngine engine, PollResults served, CancellationToken cancellationToken)
    {
        var state = new PollState(served.Poll, createdPosition: 0, countsOnly: true);
        long read = 0;
        string? gap = null;
        var scores = new List<ScoreAwarded>();
        await foreach (var e in engine.ReadPollEventsAsync(served.Poll.Id, served.Seq, cancellationToken).ConfigureAwait(false))
        {
            read++;
            if (e is PollCreated)
            {
                continue;
            }

            if (e.Seq != state.Seq + 1)
            {
                gap ??= $"the log jumps from seq {state.Seq} to {e.Seq}";
                break;
            }

            state.Apply(e);
            if (e is ScoreAwarded score)
            {
                scores.Add(score);
            }
        }

        return (state.ToResults(), read, gap, scores);
    }

    /// <summary>
    /// Scores every answer on the event's quiz questions again from the questions' logs (through their committed seq) and
    /// compares it with the <see cref="ScoreAwarded"/> the event's log holds for it: the same correctness and points, and
    /// one score per answer and one answer per score.
    /// </summary>
    private static async Task<List<VerifyDifference>> RescoreAsync(ITallyEngine engine, PollResults ev, List<PollResults> questions, List<ScoreAwarded> scores, CancellationToken cancellationToken)
    {
        var differences = new List<VerifyDifference>();
        var recorded = scores.ToDictionary(s => (s.Question, s.AnswerSeq));
        foreach (var served in questions)
        {
            var id = served.Poll.Id;
            var question = int.Parse(id.AsSpan(Polls.EventIds.RoutingLength + 1), System.Globalization.CultureInfo.InvariantCulture);
            if (served.Poll.Quiz is not { } quiz)
            {
                continue;
            }

            DateTimeOffset? openedAt = null;
            await foreach (var e in engine.ReadPollEventsAsync(id, served.Seq, cancellationToken).ConfigureAwait(false))
            {
                if (e is PollOpened opened)
                {
                    openedAt = opened.At;
                }
                else if (e is VoteCast answer)
                {
                    var correct = quiz.IsCorrect(answer.OptionIds[0]);
                    var points = correct ? Polls.QuizScoring.Points(quiz.Points, quiz.TimeLimit, answer.At - (openedAt ?? answer.At)) : 0;
                    if (!recorded.Remove((question, answer.Seq), out var score))
                    {
                        differences.Add(new VerifyDifference(ev.Poll.Id, $"score of {id}-{answer.Seq}", "none", Text(points)));
                    }
                    else if (score.Correct != correct || score.Points != points)
                    {
                        differences.Add(new VerifyDifference(ev.Poll.Id, $"score of {id}-{answer.Seq}", $"{Text(score.Points)} ({(score.Correct ? "correct" : "wrong")})", $"{Text(points)} ({(correct ? "correct" : "wrong")})"));
                    }
                }
            }
        }

        foreach (var ((question, answerSeq), score) in recorded)
        {
            // A score for an answer past the seq its question was read at came in after that read: not a difference.
            if (questions.FirstOrDefault(q => q.Poll.Id == ev.Poll.QuestionId(question)) is not { } q || answerSeq <= q.Seq)
            {
                differences.Add(new VerifyDifference(ev.Poll.Id, $"score of {ev.Poll.QuestionId(question)}-{answerSeq}", Text(score.Points), "no such answer"));
            }
        }

        return differences;
    }

    private static async Task<List<PollResults>> QuestionsAsync(ITallyEngine engine, Polls.PollDefinition ev, CancellationToken cancellationToken)
    {
        var questions = new List<PollResults>();
        for (var question = 1; question <= ev.Options.Count; question++)
        {
            if ((await engine.GetResultsAsync(ev.QuestionId(question), cancellationToken).ConfigureAwait(false)).Value is { } results)
            {
                questions.Add(results);
            }
        }

        return questions;
    }

    private static IEnumerable<VerifyDifference> Compare(PollResults served, PollResults recomputed, string? gap)
    {
        var id = served.Poll.Id;
        if (gap is not null)
        {
            yield return new VerifyDifference(id, "log", "complete", gap);
        }

        if (served.Seq != recomputed.Seq)
        {
            yield return new VerifyDifference(id, "seq", Text(served.Seq), Text(recomputed.Seq));
        }

        if (served.Status != recomputed.Status)
        {
            yield return new VerifyDifference(id, "status", served.Status.ToString(), recomputed.Status.ToString());
        }

        if (served.TotalVotes != recomputed.TotalVotes)
        {
            yield return new VerifyDifference(id, "totalVotes", Text(served.TotalVotes), Text(recomputed.TotalVotes));
        }

        for (var i = 0; i < Math.Max(served.Counts.Count, recomputed.Counts.Count); i++)
        {
            var a = i < served.Counts.Count ? served.Counts[i] : 0;
            var b = i < recomputed.Counts.Count ? recomputed.Counts[i] : 0;
            if (a != b)
            {
                yield return new VerifyDifference(id, $"option {i + 1}", Text(a), Text(b));
            }
        }

        var (servedRunoff, recomputedRunoff) = (Runoff(served.Ranking), Runoff(recomputed.Ranking));
        if (servedRunoff != recomputedRunoff)
        {
            yield return new VerifyDifference(id, "instantRunoff", servedRunoff, recomputedRunoff);
        }

        var (servedEvent, recomputedEvent) = (Progress(served.Event), Progress(recomputed.Event));
        if (servedEvent != recomputedEvent)
        {
            yield return new VerifyDifference(id, "event", servedEvent, recomputedEvent);
        }

        var (servedQuestions, recomputedQuestions) = (Ranked(served.Questions), Ranked(recomputed.Questions));
        if (servedQuestions != recomputedQuestions)
        {
            yield return new VerifyDifference(id, "questions", servedQuestions, recomputedQuestions);
        }
    }

    /// <summary>A Q&amp;A poll's questions as one comparable line: shown and held, then the ranked top with their upvotes and marks.</summary>
    private static string Ranked(QuestionResults? questions) =>
        questions is null ? "none" : $"{questions.Asked} asked, {questions.Held} held; "
            + string.Join(" ", questions.Items.Select(q => $"{Text(q.Seq)}={Text(q.Votes)}" + (q.Answered ? "*" : "")));

    /// <summary>An event's progress and leaderboard top as one comparable line.</summary>
    private static string Progress(EventView? view) =>
        view is null ? "none" : $"question {view.Current}, revealed {view.Revealed}, round {view.Round}, {view.Participants} participants; "
            + string.Join(" ", view.Leaders.Select(e => $"{e.Rank}:{e.VoterId}={Text(e.Score)}/{e.Streak}"));

    /// <summary>A ranking poll's runoff as one comparable line: the winner, then each round's votes and elimination.</summary>
    private static string Runoff(RankingResults? ranking) =>
        ranking is null ? "none" : $"{ranking.Ballots} ballots, winner {ranking.Irv.Winner?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}; "
            + string.Join("; ", ranking.Irv.Rounds.Select(r => string.Join(" ", r.Votes.Select(v => $"{v.Id}:{v.Votes}")) + $" x{r.Exhausted}" + (r.Eliminated is { } out_ ? $" -{out_}" : "")));

    private static string Text(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>What <see cref="TallyVerifier"/> found: polls and events checked, and the differences (all counted, the first <see cref="TallyVerifier.MaxListed"/> listed).</summary>
public sealed record VerifyReport(long Polls, long Events, long DifferenceCount, IReadOnlyList<VerifyDifference> Differences)
{
    public bool Clean => DifferenceCount == 0;
}

/// <summary>One figure of one poll that the engine serves otherwise than its log says.</summary>
public sealed record VerifyDifference(string PollId, string What, string Served, string Recomputed);

/// <summary>The engine could not list its polls for a verification (a partition without an owner, an engine not running): retry later.</summary>
public sealed class VerifyUnavailableException(Rejection rejection) : Exception("The polls could not be listed: " + rejection.Detail)
{
    public Rejection Rejection => rejection;
}
