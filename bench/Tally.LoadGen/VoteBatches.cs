using System.Text;
using System.Text.Json;

namespace Tally.LoadGen;

/// <summary><c>POST /v1/votes/batch</c>: B ballots a request, spread over the polls and over distinct voters.</summary>
internal sealed class VoteBatches : Workload
{
    private readonly Uri _uri;
    private readonly int _batch;
    private readonly byte[][][] _bodies;

    public VoteBatches(Uri baseUrl, IReadOnlyList<string> polls, int loops, int batch)
    {
        _uri = new Uri(baseUrl, "/v1/votes/batch");
        _batch = batch;
        _bodies = [.. Enumerable.Range(0, loops).Select(loop => Enumerable.Range(0, BodiesPerLoop)
            .Select(n => Body(polls, batch, $"b{loop}-{n}-"))
            .ToArray())];
    }

    public override int VotesPerRequest => _batch;

    public override Uri UriFor(int loop) => _uri;

    public override byte[] BodyFor(int loop, long request) => _bodies[loop][request % BodiesPerLoop];

    public override (long Counted, long NotCounted, string? Problem) ReadAck(int status, byte[] answer)
    {
        // {"results":[{"status":"counted",...},...]}: a result's "status" is a property name at depth 3.
        long counted = 0, other = 0;
        string? firstOther = null;
        var reader = new Utf8JsonReader(answer);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 3 && reader.ValueTextEquals("status"u8))
            {
                reader.Read();
                if (reader.ValueTextEquals("counted"u8))
                {
                    counted++;
                }
                else
                {
                    other++;
                    firstOther ??= reader.GetString();
                }
            }
        }

        var problem = counted + other != _batch
            ? $"a batch of {_batch} answered {counted + other} results"
            : firstOther is not null ? $"a batch result had status '{firstOther}': {Encoding.UTF8.GetString(answer[..Math.Min(answer.Length, 400)])}" : null;
        return (counted, other, problem);
    }

    private static byte[] Body(IReadOnlyList<string> polls, int batch, string voterPrefix)
    {
        var json = new StringBuilder(batch * 64);
        json.Append("{\"votes\":[");
        for (var i = 0; i < batch; i++)
        {
            json.Append(i == 0 ? "" : ",")
                .Append("{\"pollId\":\"").Append(polls[i % polls.Count])
                .Append("\",\"optionIds\":[").Append(1 + (i % 3))
                .Append("],\"voterId\":\"").Append(voterPrefix).Append(i).Append("\"}");
        }

        return Encoding.UTF8.GetBytes(json.Append("]}").ToString());
    }
}
