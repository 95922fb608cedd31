using System.Diagnostics;
using Microsoft.Extensions.Options;
using Tally.Engine;

namespace Tally.Server.Hosting;

/// <summary>
/// Runs the engine with the host: recovery before the server listens; on shutdown (SIGTERM), after
/// Kestrel has finished in-flight requests, the engine answers what is queued and writes a snapshot.
/// </summary>
internal sealed class EngineHostedService(
    ITallyEngine engine,
    IOptions<TallyServerOptions> options,
    AdminKeySetup adminKey,
    ILogger<EngineHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var server = options.Value; // resolving the options runs AdminKeySetup
        ServerLog.DataFolder(logger, Path.GetFullPath(server.DataPath));
        if (adminKey.Generated is { } generated)
        {
            // Where the key is and a fingerprint to tell keys apart, never the key: logs are collected and shipped.
            ServerLog.AdminKeyKept(logger, generated ? "generated at this start" : "generated at an earlier start", Path.GetFullPath(adminKey.KeyPath!), AdminKeySetup.Fingerprint(server.AdminKey!));
        }

        engine.Faulted += (where, ex) => ServerLog.EngineFault(logger, where, ex);
        var clock = Stopwatch.StartNew();
        await engine.StartAsync(cancellationToken).ConfigureAwait(false);
        ServerLog.Recovered(logger, engine.Catalog.Count, engine.ReplayedEvents, clock.ElapsedMilliseconds);
        if (engine.Durability is { AtRisk: true } atRisk)
        {
            ServerLog.DurabilityAtRisk(logger, atRisk.Statement); // a warning: a machine's crash can lose acknowledged votes here
        }
        else
        {
            ServerLog.Durability(logger, engine.Durability.Statement);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await engine.StopAsync(cancellationToken).ConfigureAwait(false);
        ServerLog.Stopped(logger);
    }
}
