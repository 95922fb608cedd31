using System.Text;

namespace Tally.LoadGen;

/// <summary><c>POST /v1/polls/{id}/votes</c>, one ballot a request; loop i votes on poll i mod polls.</summary>
internal sealed class SingleVotes : Workload
{
    private const int Bodies = 256;
    private readonly Uri[] _uris;
    private readonly byte[][][] _bodies;

    /// <param name="kind">
    /// The polls' kind: single (option 1–3), rating (a value 1–5) or ranking (a full ranking of 10 options, shuffled by a
    /// fixed seed per loop: up to loops × 256 distinct rankings, the instant runoff's worst case on this workload) or text
    /// (an answer of 3–8 words from a 5,000-word vocabulary, log-uniform ranks — a few words common, most rare — with a
    /// stop word among them now and then: every answer normalised into terms and counted into the bounded top terms).
    /// </param>
    public SingleVotes(Uri baseUrl, IReadOnlyList<string> polls, int loops, string kind = "single")
    {
        _uris = [.. Enumerable.Range(0, loops).Select(i => new Uri(baseUrl, $"/v1/polls/{polls[i % polls.Count]}/votes"))];
        _bodies = [.. Enumerable.Range(0, loops).Select(loop =>
        {
            var random = new Random(loop);
            return Enumerable.Range(0, Bodies)
                .Select(n => Encoding.UTF8.GetBytes(kind switch
                {
                    "rating" => $$"""{"value":{{1 + (n % 5)}},"voterId":"v{{loop}}-{{n}}"}""",
                    "ranking" => $$"""{"optionIds":[{{string.Join(',', Enumerable.Range(1, 10).OrderBy(_ => random.Next()))}}],"voterId":"v{{loop}}-{{n}}"}""",
                    "text" => $$"""{"text":"{{Answer(random)}}","voterId":"v{{loop}}-{{n}}"}""",
                    _ => $$"""{"optionIds":[{{1 + (n % 3)}}],"voterId":"v{{loop}}-{{n}}"}""",
                }))
                .ToArray();
        })];
    }

    public override int VotesPerRequest => 1;

    /// <summary>3–8 words: each the vocabulary's word at a log-uniform rank (word 1 the most frequent), one in ten a stop word.</summary>
    private static string Answer(Random random)
    {
        const int Vocabulary = 5000;
        var words = new string[random.Next(3, 9)];
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = random.Next(10) == 0 ? "the" : Word((int)Math.Pow(Vocabulary, random.NextDouble()));
        }

        return string.Join(' ', words);
    }

    /// <summary>Word <paramref name="rank"/> of the vocabulary: letters only (base 26 from "ka"), so every word is a term.</summary>
    private static string Word(int rank)
    {
        var letters = new System.Text.StringBuilder("k");
        for (var n = rank; n > 0; n /= 26)
        {
            letters.Append((char)('a' + (n % 26)));
        }

        return letters.ToString();
    }

    public override Uri UriFor(int loop) => _uris[loop];

    public override byte[] BodyFor(int loop, long request) => _bodies[loop][request % Bodies];

    public override (long Counted, long NotCounted, string? Problem) ReadAck(int status, byte[] answer) =>
        status == 201 ? (1, 0, null) : (0, 1, $"a vote answered {status}, not 201: {Encoding.UTF8.GetString(answer)}");
}
