using System.Text.Json.Serialization;

namespace Tally.LoadGen;

/// <summary>The baselines' one live message, as their client libraries decode it: a poll's whole results.</summary>
internal sealed class BaselineResults
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("pollId")]
    public string? PollId { get; set; }

    [JsonPropertyName("seq")]
    public long Seq { get; set; }

    [JsonPropertyName("totalVotes")]
    public long TotalVotes { get; set; }

    [JsonPropertyName("options")]
    public List<BaselineOption> Options { get; set; } = [];
}

/// <summary>One option's count in <see cref="BaselineResults"/>.</summary>
internal sealed class BaselineOption
{
    [JsonPropertyName("id")]
    public int Id { get; set; }

    [JsonPropertyName("votes")]
    public long Votes { get; set; }
}
