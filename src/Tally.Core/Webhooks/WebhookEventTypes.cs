namespace Tally.Webhooks;

/// <summary>The wire names of <see cref="WebhookEvents"/> (<c>vote.counted</c>, …).</summary>
public static class WebhookEventTypes
{
    private static readonly (string Name, WebhookEvents Type)[] Names =
    [
        ("vote.counted", WebhookEvents.VoteCounted),
        ("vote.changed", WebhookEvents.VoteChanged),
        ("vote.erased", WebhookEvents.VoteErased),
        ("poll.created", WebhookEvents.PollCreated),
        ("poll.opened", WebhookEvents.PollOpened),
        ("poll.closed", WebhookEvents.PollClosed),
        ("poll.paused", WebhookEvents.PollPaused),
        ("poll.resumed", WebhookEvents.PollResumed),
        ("event.started", WebhookEvents.EventStarted),
        ("event.ended", WebhookEvents.EventEnded),
        ("question.shown", WebhookEvents.QuestionShown),
        ("question.revealed", WebhookEvents.QuestionRevealed),
    ];

    /// <summary>Every wire name, in a fixed order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Names.Select(n => n.Name)];

    /// <summary>Every type at once.</summary>
    public static WebhookEvents Every { get; } = Names.Aggregate(WebhookEvents.None, (all, n) => all | n.Type);

    /// <summary>The type a wire name stands for, or <see cref="WebhookEvents.None"/> for an unknown name.</summary>
    public static WebhookEvents Parse(string? name)
    {
        foreach (var (n, type) in Names)
        {
            if (string.Equals(n, name, StringComparison.Ordinal))
            {
                return type;
            }
        }

        return WebhookEvents.None;
    }

    /// <summary>The wire name of one type.</summary>
    public static string Name(WebhookEvents type)
    {
        foreach (var (n, t) in Names)
        {
            if (t == type)
            {
                return n;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(type), type, "Not a single webhook event type.");
    }

    /// <summary>The names of the types set in <paramref name="types"/>, in a fixed order.</summary>
    public static IReadOnlyList<string> Format(WebhookEvents types) => [.. Names.Where(n => (types & n.Type) != 0).Select(n => n.Name)];
}
