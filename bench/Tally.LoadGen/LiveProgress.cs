using Spectre.Console;

namespace Tally.LoadGen;

/// <summary>
/// Live progress of a long phase (connecting watchers, sending votes) with Spectre.Console when the output is a terminal;
/// when it is not (a script's log), nothing is drawn and the phase's own summary lines are the output.
/// </summary>
internal static class LiveProgress
{
    private static readonly bool s_interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Awaits <paramref name="work"/>, showing <paramref name="current"/> of <paramref name="total"/> every 100 ms meanwhile.</summary>
    public static async Task<T> TrackAsync<T>(string description, double total, Func<double> current, Task<T> work)
    {
        if (!s_interactive)
        {
            return await work;
        }

        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(description, maxValue: Math.Max(1, total));
                while (!work.IsCompleted)
                {
                    task.Value = Math.Min(current(), task.MaxValue);
                    await Task.WhenAny(work, Task.Delay(100));
                }

                task.Value = task.MaxValue;
            });
        return await work;
    }

    public static Task TrackAsync(string description, double total, Func<double> current, Task work) =>
        TrackAsync(description, total, current, AsValueTask(work));

    private static async Task<bool> AsValueTask(Task work)
    {
        await work;
        return true;
    }
}
