namespace KestrelCeiling;

internal sealed record CreatedPoll(string Id);
