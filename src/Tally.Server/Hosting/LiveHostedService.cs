using Tally.Live;
using Tally.Server.Transports;

namespace Tally.Server.Hosting;

/// <summary>Starts the hub's publisher loops; at shutdown ends every watcher's stream so Kestrel can drain.</summary>
internal sealed class LiveHostedService(LiveHub hub, IHostApplicationLifetime lifetime, ILogger<LiveHostedService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        hub.Faulted += (where, ex) => LiveLog.LiveFault(logger, where, ex);
        lifetime.ApplicationStopping.Register(hub.BeginShutdown);
        hub.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => hub.StopAsync();
}
