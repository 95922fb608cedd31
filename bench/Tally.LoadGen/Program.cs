using Tally.LoadGen;

const string Usage = """
    usage:
      Tally.LoadGen ingest-single --url http://127.0.0.1:PORT [--target tally|ceiling] [--concurrency 64] [--duration 10] [--warmup 2]
                                  [--polls 1] [--max-requests N] [--admin-key K] [--server-pid PID] [--json FILE]
      Tally.LoadGen ingest-batch  --url http://127.0.0.1:PORT [--batch 1000] [--concurrency 4] [--duration 10] [--warmup 2]
                                  [--polls 4] [--max-requests N] [--admin-key K] [--server-pid PID] [--json FILE]
      Tally.LoadGen fanout        --url http://127.0.0.1:PORT --admin-key K [--transport sse|ws] [--watchers 1000] [--rate 1000]
                                  [--senders 16] [--duration 10] [--warmup 2] [--connect-concurrency 64] [--source-addresses 1]
                                  [--connect-timeout 120] [--server-pid PID] [--json FILE] [--noise-limit 0.25]
      Tally.LoadGen idle          --url http://127.0.0.1:PORT --admin-key K [--transport sse|ws] [--watchers 10000] [--polls 4]
                                  [--duration 5] [--connect-concurrency 64] [--source-addresses 1] [--connect-timeout 120]
                                  [--server-pid PID] [--json FILE]
      Tally.LoadGen report --dir FOLDER
      Tally.LoadGen report-fanout --dir FOLDER
    Only loopback addresses are accepted. Against Tally the run creates its polls (dedupe "none") and then checks
    that the server counted exactly the votes it acknowledged (ingest), or that every watcher ends with exactly
    the counts GET /results serves (fanout, idle); it exits 3 when it did not. With --noise-limit F a fanout run
    that other processes disturbed (more than F of a core in its window) is not recorded and exits 4.
    """;

if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

try
{
    return args[0] switch
    {
        Scenarios.IngestSingle or Scenarios.IngestBatch or Scenarios.IngestWs => await IngestRun.RunAsync(args[0], LoadArgs.Parse(args[0], args[1..])),
        Scenarios.Fanout or Scenarios.ManyPolls => await FanoutRun.RunAsync(WatchArgs.Parse(args[0], args[1..])),
        Scenarios.Idle => await IdleRun.RunAsync(WatchArgs.Parse(args[0], args[1..])),
        Scenarios.Report => Report.Run(args[1..]),
        Scenarios.ReportFanout => FanoutReport.Run(args[1..]),
        Scenarios.ReportCompare => CompareReport.Run(args[1..]),
        _ => throw new ArgumentException($"Unknown scenario '{args[0]}'."),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or System.Text.Json.JsonException or IOException or OperationCanceledException)
{
    // Setting up or checking a run failed (server down, unexpected answer): say what, and fail the run.
    Console.Error.WriteLine($"RUN FAILED: {ex.GetType().Name}: {ex.Message}");
    return 1;
}
