namespace Tally.Events;

/// <summary>
/// A Q&amp;A poll's new question: its text as kept (trimmed), who asked it, and whether it waits for moderation. Its vote id,
/// <c>{PollId}-{Seq}</c>, is the id the audience upvotes it by.
/// </summary>
public sealed record QuestionAsked(string PollId, long Seq, DateTimeOffset At, string VoterId, string Text, bool Held, string? IdempotencyKey)
    : PollEvent(PollId, Seq, At)
{
    public string VoteId => VoteIds.Format(PollId, Seq);
}
