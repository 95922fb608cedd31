namespace Tally.Projections;

/// <summary>
/// What an event's results and stream say beside its status: which question is live, whether its results are revealed,
/// how many have joined, and the top of the leaderboard.
/// </summary>
/// <param name="Current">The live question's number (1-based); 0 before the first is shown.</param>
/// <param name="ShownAt">When the live question was shown (by the server's clock); null before the first.</param>
/// <param name="Revealed">True when the live question's results are revealed.</param>
/// <param name="Round">The quiz rounds played so far (quiz questions shown).</param>
/// <param name="Leaders">The top <see cref="Polls.EventSettings.LeaderboardSize"/> participants, leader first.</param>
/// <param name="Changed">
/// The participants who joined or scored since the previous publication (their <see cref="LeaderboardEntry.Rank"/> is 0: ranks of
/// others moved too), for projections that keep the whole board (cluster mode's Redis sorted set); empty on every copy but
/// the owner's publication, and never on the wire.
/// </param>
public sealed record EventView(int Current, DateTimeOffset? ShownAt, bool Revealed, int Round, int Participants, IReadOnlyList<LeaderboardEntry> Leaders, IReadOnlyList<LeaderboardEntry>? Changed = null);
