namespace Tally.LoadGen;

internal static class Scenarios
{
    public const string IngestSingle = "ingest-single";
    public const string IngestBatch = "ingest-batch";
    public const string IngestWs = "ingest-ws";
    public const string IngestAuth = "ingest-auth";
    public const string ReportAuth = "report-auth";
    public const string ManyPolls = "many-polls";
    public const string Fanout = "fanout";
    public const string Idle = "idle";
    public const string Report = "report";
    public const string ReportFanout = "report-fanout";
    public const string ReportCompare = "report-compare";
}
