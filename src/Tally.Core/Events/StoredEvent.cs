namespace Tally.Events;

/// <summary>An event as the log holds it: with its global, gap-free <see cref="Position"/>.</summary>
public readonly record struct StoredEvent(long Position, PollEvent Event);
