namespace Tally.Polls;

/// <summary>What a ballot chooses, and so what the results show.</summary>
public enum PollKind
{
    /// <summary>Exactly one option per ballot.</summary>
    Single = 0,

    /// <summary>One up to <see cref="PollDefinition.MaxChoices"/> distinct options per ballot.</summary>
    Multiple = 1,

    /// <summary>
    /// One value of a numeric scale (<see cref="PollDefinition.ScaleMin"/> to <see cref="PollDefinition.ScaleMax"/>, e.g. 1–5
    /// stars or 0–10) per ballot. Each value is an option (option <c>n</c> is value <c>ScaleMin + n - 1</c>), so the counts
    /// are the distribution; the results add the count, sum and mean (<see cref="Projections.ScaleSummary"/>).
    /// </summary>
    Rating = 2,

    /// <summary>
    /// Net Promoter Score: a <see cref="Rating"/> on the fixed scale 0–10, whose results add promoters (9–10), passives
    /// (7–8), detractors (0–6) and the score, the promoters' share minus the detractors' in points (−100 to 100).
    /// </summary>
    Nps = 3,

    /// <summary>
    /// The voter orders 1 up to <see cref="PollDefinition.MaxChoices"/> distinct options, most preferred first. The counts are
    /// Borda scores (of N options, N points for the first ranked … 1 for the N-th, 0 unranked), kept incrementally; the
    /// results add the instant-runoff count (<see cref="Projections.RankingResults"/>) over every ballot.
    /// </summary>
    Ranking = 4,

    /// <summary>
    /// A timed question of an event with one or more options marked correct (<see cref="PollDefinition.Quiz"/>): one option
    /// per ballot, no change of answer. The server's clock starts when the presenter shows the question and stops at its
    /// time limit; a correct answer scores by speed (<see cref="QuizScoring"/>) on the event's leaderboard.
    /// </summary>
    Quiz = 5,

    /// <summary>
    /// A live event (<see cref="PollDefinition.Event"/>): not a question but the session its questions belong to. Its options
    /// are the questions' texts, its ballots are none; its seq numbers the event's own facts (started, question shown, results
    /// revealed, a participant joined, a score awarded, ended), so its stream is the event's stream.
    /// </summary>
    Event = 6,

    /// <summary>
    /// Open text (a word cloud): each ballot is a short free answer (<see cref="PollDefinition.Text"/>: its length, language and
    /// moderation); the results are the answers counted and the most used terms (<see cref="TextTerms"/>), in bounded memory.
    /// </summary>
    Text = 7,

    /// <summary>
    /// Q&amp;A: the audience asks questions (<see cref="PollDefinition.Questions"/>: their length, moderation, and how many one voter
    /// may ask) and upvotes them, once per voter per question; the results are the questions ranked by upvotes, the oldest first
    /// among equals, each marked once a presenter has answered it.
    /// </summary>
    Questions = 8,
}
