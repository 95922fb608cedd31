using Tally.Polls;

namespace Tally.Events;

/// <summary>A poll was created; always seq 1 of its poll.</summary>
public sealed record PollCreated(PollDefinition Definition)
    : PollEvent(Definition.Id, 1, Definition.CreatedAt);
