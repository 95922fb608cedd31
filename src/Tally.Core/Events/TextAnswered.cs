namespace Tally.Events;

/// <summary>
/// A text poll's answer: its text as kept (trimmed), the terms it counts for (<see cref="Polls.TextTerms"/>, worked out once at
/// admission, with the workspace's block list then, so a replay counts the same), and whether it waits for moderation.
/// </summary>
public sealed record TextAnswered(string PollId, long Seq, DateTimeOffset At, string? VoterId, string Text, string[] Terms, bool Held, string? IdempotencyKey)
    : PollEvent(PollId, Seq, At)
{
    public string VoteId => VoteIds.Format(PollId, Seq);
}
