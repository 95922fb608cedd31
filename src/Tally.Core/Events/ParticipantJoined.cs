namespace Tally.Events;

/// <summary>A voter joined the event under a display name; from now on they may answer its questions and are on its leaderboard.</summary>
public sealed record ParticipantJoined(string PollId, long Seq, DateTimeOffset At, string VoterId, string Name)
    : PollEvent(PollId, Seq, At);
