using System.Text;

namespace Tally.LoadGen;

/// <summary><c>POST /v1/polls/{id}/votes</c>, one ballot a request; loop i votes on poll i mod polls.</summary>
internal sealed class SingleVotes : Workload
{
    private const int Bodies = 256;
    private readonly Uri[] _uris;
    private readonly byte[][][] _bodies;

    public SingleVotes(Uri baseUrl, IReadOnlyList<string> polls, int loops)
    {
        _uris = [.. Enumerable.Range(0, loops).Select(i => new Uri(baseUrl, $"/v1/polls/{polls[i % polls.Count]}/votes"))];
        _bodies = [.. Enumerable.Range(0, loops).Select(loop => Enumerable.Range(0, Bodies)
            .Select(n => Encoding.UTF8.GetBytes($$"""{"optionIds":[{{1 + (n % 3)}}],"voterId":"v{{loop}}-{{n}}"}"""))
            .ToArray())];
    }

    public override int VotesPerRequest => 1;

    public override Uri UriFor(int loop) => _uris[loop];

    public override byte[] BodyFor(int loop, long request) => _bodies[loop][request % Bodies];

    public override (long Counted, long NotCounted, string? Problem) ReadAck(int status, byte[] answer) =>
        status == 201 ? (1, 0, null) : (0, 1, $"a vote answered {status}, not 201: {Encoding.UTF8.GetString(answer)}");
}
