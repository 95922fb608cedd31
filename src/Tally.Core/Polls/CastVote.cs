namespace Tally.Polls;

/// <summary>The command to cast (or, where allowed, change) one ballot.</summary>
/// <param name="PollId">The poll voted on.</param>
/// <param name="OptionIds">The chosen option ids, as sent.</param>
/// <param name="VoterId">Who votes; required under <see cref="DedupePolicy.Voter"/>.</param>
/// <param name="IdempotencyKey">Optional client key: a retry with the same key returns the first answer.</param>
/// <param name="Text">On a text poll: the answer (its <see cref="OptionIds"/> are empty).</param>
/// <param name="Terms">On a text poll: the terms it counts for (<see cref="TextTerms"/>, with the workspace's block list), as the host
/// worked them out; null lets the engine work them out without a block list.</param>
/// <param name="Upvote">On a Q&amp;A poll: the seq of the question upvoted (its vote id is <c>{PollId}-{Upvote}</c>), in place of a
/// <see cref="Text"/> that asks a new question.</param>
public sealed record CastVote(string PollId, int[] OptionIds, string? VoterId, string? IdempotencyKey, string? Text = null, string[]? Terms = null, long? Upvote = null);
