using Tally.Engine;

namespace Tally.Testing;

/// <summary>The engines an <see cref="EngineSpecification"/> test runs against.</summary>
/// <param name="Writer">Where the test sends its commands.</param>
/// <param name="Reader">Where it reads: the same engine, or another node of the same cluster.</param>
/// <param name="Appends">The gate in front of every partition's log.</param>
/// <param name="QueuedVotes">Votes waiting in the partitions' queues, over every engine (those being appended included).</param>
public sealed record EnginesUnderTest(ITallyEngine Writer, ITallyEngine Reader, AppendGate Appends, Func<int> QueuedVotes);
