namespace Tally.Storage;

/// <summary>
/// What an acknowledged vote survives, for operators (the start-up log and <c>/readyz</c>).
/// </summary>
/// <param name="Statement">Which faults keep an acknowledged vote and which may lose it, in a sentence or two.</param>
/// <param name="AtRisk">True when a fault short of losing the disk (an OS crash, a power loss, the process's end) can lose acknowledged votes: the start-up log says it as a warning.</param>
public sealed record Durability(string Statement, bool AtRisk);
