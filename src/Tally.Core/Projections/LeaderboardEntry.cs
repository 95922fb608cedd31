namespace Tally.Projections;

/// <summary>One participant's standing on an event's leaderboard.</summary>
/// <param name="Rank">1 for the leader. Equal scores rank by who reached the score first (the earlier event seq).</param>
/// <param name="Score">Points and streak bonuses of every quiz answer.</param>
/// <param name="Streak">Correct answers in consecutive quiz rounds, up to the last round answered.</param>
/// <param name="Correct">Correct answers in all.</param>
/// <param name="Answered">Quiz questions answered.</param>
/// <param name="ReachedSeq">The event seq that brought the participant to <paramref name="Score"/> (their join's at 0): ties rank by it.</param>
public sealed record LeaderboardEntry(int Rank, string VoterId, string Name, long Score, int Streak, int Correct, int Answered, long ReachedSeq = 0);
