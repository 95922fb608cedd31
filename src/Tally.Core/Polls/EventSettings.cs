namespace Tally.Polls;

/// <summary>What makes a <see cref="PollKind.Event"/>: its join code, its optional passcode, and its leaderboard's rules.</summary>
/// <param name="JoinCode">The code participants type (<see cref="JoinCodes"/>); the event's id is derived from it.</param>
/// <param name="PasscodeSalt">With <paramref name="PasscodeHash"/>: the PBKDF2 salt of the passcode; null when the event has none.</param>
/// <param name="PasscodeHash">PBKDF2-SHA256 of the passcode (<see cref="Passcodes"/>); the passcode itself is never kept.</param>
/// <param name="StreakBonus">Points added per step of a streak of correct answers (the second correct in a row adds one step, at most 5).</param>
/// <param name="LeaderboardSize">How many leaders the event's results and stream carry (the top N).</param>
public sealed record EventSettings(string JoinCode, byte[]? PasscodeSalt, byte[]? PasscodeHash, int StreakBonus, int LeaderboardSize)
{
    public bool HasPasscode => PasscodeHash is not null;
}
