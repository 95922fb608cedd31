namespace Tally.Polls;

/// <summary>The command to create an event with its questions. Fields are as the client sent them; <see cref="EventRules"/> validates them.</summary>
/// <param name="Title">What the event is called (shown on the join screen).</param>
/// <param name="Questions">Its questions, in order: each a poll of any kind, or a quiz question.</param>
/// <param name="JoinCode">The join code the server drew (<see cref="EventRules.IsJoinCode"/>); the event's id was derived from it.</param>
/// <param name="Passcode">An optional passcode participants give to join; only its hash is kept.</param>
/// <param name="StreakBonus">Points per step of a streak of correct quiz answers (default 0: none).</param>
/// <param name="LeaderboardSize">How many leaders the event's results and stream carry (default 10).</param>
/// <param name="Workspace">The caller's workspace, never the body's.</param>
public sealed record CreateEvent(
    string? Title,
    IReadOnlyList<CreatePoll?>? Questions,
    string JoinCode,
    string? Passcode = null,
    int? StreakBonus = null,
    int? LeaderboardSize = null,
    string Workspace = Access.WorkspaceIds.Default,
    VoterIdentity VoterIdentity = VoterIdentity.Client,
    PollAccess Access = PollAccess.Public);
