using System.Globalization;
using System.Text;

namespace Tally.LoadGen;

/// <summary>
/// <c>ingest-auth</c>: single votes (<c>POST /v1/polls/{id}/votes</c>), each voter's credential on its requests. A loop
/// takes the next unused voter, casts its <see cref="_votesPerVoter"/> votes, one on each of that many polls (every poll
/// dedupes by voter, so each is counted), then takes another; when the voters run out the loop ends. With one vote per
/// voter every request carries a token the server has never seen (the worst case: its signature is checked); with
/// more, the server checks a token once and finds it in its cache for the rest.
/// </summary>
internal sealed class AuthVotes : Workload
{
    private static readonly byte[][] s_ballots = [.. Enumerable.Range(1, 3).Select(o => Encoding.UTF8.GetBytes($$"""{"optionIds":[{{o}}]}"""))];

    private readonly Uri[] _uris;
    private readonly string?[] _authorizations;
    private readonly bool _bodyVoterId;
    private readonly int _votesPerVoter;
    private readonly int[] _voterOfLoop;
    private int _nextVoter = -1;

    public AuthVotes(Uri baseUrl, AuthSetup setup, int loops, int votesPerVoter)
    {
        _uris = [.. setup.Polls.Select(p => new Uri(baseUrl, $"/v1/polls/{p}/votes"))];
        _authorizations = [.. setup.Credentials.Select(c => c is null ? null : "Bearer " + c)];
        _bodyVoterId = setup.BodyVoterId;
        _votesPerVoter = votesPerVoter;
        _voterOfLoop = new int[loops];
    }

    /// <summary>Whether some loop ended because every voter had voted (votes/s then understates; CPU per vote does not).</summary>
    public bool VotersRanOut => Volatile.Read(ref _nextVoter) >= _authorizations.Length;

    public override int VotesPerRequest => 1;

    public override Uri UriFor(int loop) => _uris[0];

    public override byte[] BodyFor(int loop, long request) => s_ballots[0];

    public override VoteRequest? Next(int loop, long request)
    {
        var j = (int)(request % _votesPerVoter);
        if (j == 0)
        {
            _voterOfLoop[loop] = Interlocked.Increment(ref _nextVoter);
        }

        var voter = _voterOfLoop[loop];
        if (voter >= _authorizations.Length)
        {
            return null;
        }

        var body = _bodyVoterId
            ? Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"optionIds":[{{1 + (voter % 3)}}],"voterId":"{{AuthSetup.VoterId(voter)}}"}"""))
            : s_ballots[voter % 3];
        return new VoteRequest(_uris[j], body, _authorizations[voter]);
    }

    public override (long Counted, long NotCounted, string? Problem) ReadAck(int status, byte[] answer) =>
        status == 201 ? (1, 0, null) : (0, 1, $"a vote answered {status}, not 201: {Encoding.UTF8.GetString(answer)}");
}
