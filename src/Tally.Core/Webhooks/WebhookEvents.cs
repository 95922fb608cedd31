namespace Tally.Webhooks;

/// <summary>The event types an endpoint subscribes to (<see cref="WebhookEventTypes"/> holds their wire names).</summary>
[Flags]
public enum WebhookEvents
{
    None = 0,

    /// <summary><c>vote.counted</c>: a new ballot was counted.</summary>
    VoteCounted = 1 << 0,

    /// <summary><c>vote.changed</c>: a voter replaced their ballot.</summary>
    VoteChanged = 1 << 1,

    /// <summary><c>vote.erased</c>: a ballot was erased on request.</summary>
    VoteErased = 1 << 2,

    /// <summary><c>poll.created</c>.</summary>
    PollCreated = 1 << 3,

    /// <summary><c>poll.opened</c>: a draft or scheduled poll opened.</summary>
    PollOpened = 1 << 4,

    /// <summary><c>poll.closed</c>: by hand, at <c>closesAt</c> or at <c>maxBallots</c>.</summary>
    PollClosed = 1 << 5,

    /// <summary><c>poll.paused</c>.</summary>
    PollPaused = 1 << 6,

    /// <summary><c>poll.resumed</c> (also a reopened poll).</summary>
    PollResumed = 1 << 7,

    /// <summary><c>event.started</c>: a live event's presenter started it.</summary>
    EventStarted = 1 << 8,

    /// <summary><c>event.ended</c>.</summary>
    EventEnded = 1 << 9,

    /// <summary><c>question.shown</c>: an event's presenter moved to a question.</summary>
    QuestionShown = 1 << 10,

    /// <summary><c>question.revealed</c>: an event's presenter revealed a question's results.</summary>
    QuestionRevealed = 1 << 11,
}
