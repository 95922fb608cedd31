namespace Tally.LoadGen;

internal static class Scenarios
{
    public const string IngestSingle = "ingest-single";
    public const string IngestBatch = "ingest-batch";
    public const string Report = "report";
}
