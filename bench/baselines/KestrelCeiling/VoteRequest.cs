namespace KestrelCeiling;

/// <summary>The body of a vote, shaped like Tally's.</summary>
internal sealed class VoteRequest
{
    public int[]? OptionIds { get; set; }

    public string? VoterId { get; set; }
}
