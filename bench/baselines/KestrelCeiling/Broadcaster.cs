using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace KestrelCeiling;

/// <summary>Every 50 ms, each changed poll's results go to its sockets; the tick waits for sends that did not complete at once.</summary>
internal sealed class Broadcaster(ConcurrentDictionary<string, CeilingPoll> polls) : BackgroundService
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(s_tick);
        var pending = new List<Task>();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var poll in polls.Values)
            {
                poll.Tick(pending);
            }

            if (pending.Count > 0)
            {
                try
                {
                    await Task.WhenAll(pending);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
                {
                    // A send fails only when its socket is going away; its WatchAsync loop sees the same and removes it.
                }

                pending.Clear();
            }
        }
    }
}
