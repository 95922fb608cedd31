namespace Tally.Polls;

/// <summary>The command to cast (or, where allowed, change) one ballot.</summary>
/// <param name="PollId">The poll voted on.</param>
/// <param name="OptionIds">The chosen option ids, as sent.</param>
/// <param name="VoterId">Who votes; required under <see cref="DedupePolicy.Voter"/>.</param>
/// <param name="IdempotencyKey">Optional client key: a retry with the same key returns the first answer.</param>
/// <param name="Text">On a text poll: the answer (its <see cref="OptionIds"/> are empty).</param>
/// <param name="Terms">On a text poll: the terms it counts for (<see cref="TextTerms"/>, with the workspace's block list), as the host
/// worked them out; null lets the engine work them out without a block list.</param>
public sealed record CastVote(string PollId, int[] OptionIds, string? VoterId, string? IdempotencyKey, string? Text = null, string[]? Terms = null);
