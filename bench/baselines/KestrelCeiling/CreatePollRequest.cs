namespace KestrelCeiling;

/// <summary>A poll to make: only the option count matters here (Tally's other fields are accepted and ignored).</summary>
internal sealed class CreatePollRequest
{
    public string? Question { get; set; }

    public string[]? Options { get; set; }
}
