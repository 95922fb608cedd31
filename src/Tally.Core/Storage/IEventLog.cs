using Tally.Events;

namespace Tally.Storage;

/// <summary>
/// The port to the durable, ordered event log. Implementations: in memory (tests), SQLite (embedded),
/// JetStream (cluster). All of them pass the same specification tests.
/// </summary>
public interface IEventLog : IAsyncDisposable
{
    /// <summary>The position of the last durable event, 0 when the log is empty.</summary>
    long CommittedPosition { get; }

    /// <summary>Opens the log (creates it when missing). Called once, before anything else.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Appends <paramref name="events"/> contiguously and in order. The returned task completes only when
    /// they are durable, with the position of the first; event <c>i</c> is at that position + <c>i</c>.
    /// Concurrent appends may share one commit (group commit). A fault means none of them is in the log.
    /// </summary>
    ValueTask<long> AppendAsync(IReadOnlyList<PollEvent> events, CancellationToken cancellationToken);

    /// <summary>Reads every durable event after <paramref name="afterPosition"/>, in position order.</summary>
    IAsyncEnumerable<StoredEvent> ReadAsync(long afterPosition, CancellationToken cancellationToken);

    /// <summary>
    /// What an acknowledged append survives, in a sentence for operators (the start-up log and <c>/readyz</c>): which
    /// faults keep it, and which may lose it.
    /// </summary>
    Durability Durability => new("The log does not say what an acknowledged append survives.", AtRisk: true);

    /// <summary>True when the log can serve reads and appends now (readiness).</summary>
    Task<bool> IsHealthyAsync(CancellationToken cancellationToken);
}
