using Tally.LoadGen;

var root = Tally.LoadGen.CommandLine.Build(RunAsync);
return await root.Parse(args).InvokeAsync();

static async Task<int> RunAsync(string command, Dictionary<string, string> values)
{
    try
    {
        return command switch
        {
            Scenarios.IngestSingle or Scenarios.IngestBatch or Scenarios.IngestWs or Scenarios.IngestAuth => await IngestRun.RunAsync(command, LoadArgs.Parse(command, values)),
            Scenarios.Fanout or Scenarios.ManyPolls => await FanoutRun.RunAsync(WatchArgs.Parse(command, values)),
            Scenarios.Idle => await IdleRun.RunAsync(WatchArgs.Parse(command, values)),
            Scenarios.Report => Report.Run(["--dir", values["dir"]]),
            Scenarios.ReportAuth => AuthReport.Run(["--dir", values["dir"]]),
            Scenarios.ReportFanout => FanoutReport.Run(["--dir", values["dir"]]),
            Scenarios.ReportCompare => CompareReport.Run([.. values.SelectMany(v => new[] { "--" + v.Key, v.Value })]),
            _ => throw new ArgumentException($"Unknown command '{command}'."),
        };
    }
    catch (ArgumentException ex)
    {
        Console.Error.WriteLine(ex.Message);
        Console.Error.WriteLine("See --help.");
        return 2;
    }
    catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or System.Text.Json.JsonException or IOException or OperationCanceledException)
    {
        // Setting up or checking a run failed (server down, unexpected answer): say what, and fail the run.
        Console.Error.WriteLine($"RUN FAILED: {ex.GetType().Name}: {ex.Message}");
        return 1;
    }
}
