namespace Tally.Ceiling;

internal sealed record HealthResponse(string Status);
