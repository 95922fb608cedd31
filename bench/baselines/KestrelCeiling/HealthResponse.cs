namespace KestrelCeiling;

internal sealed record HealthResponse(string Status);
