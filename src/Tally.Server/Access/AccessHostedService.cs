using Microsoft.Extensions.Options;
using Tally.Access;
using Tally.Cluster;
using Tally.Cluster.Hosting;

namespace Tally.Server.Access;

/// <summary>
/// Opens the access store at start (before the server takes requests), makes sure the default workspace exists,
/// loads the server's keys and starts following the store's version; stops following at shutdown. A store that cannot
/// answer yet (cluster mode's PostgreSQL restarting) is waited for, up to <c>Tally:Cluster:StartTimeout</c>.
/// </summary>
internal sealed class AccessHostedService(IAccessStore store, AccessDirectory directory, ServerKeys keys, TimeProvider time, IOptions<ClusterOptions> cluster, ILogger<AccessHostedService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        StartupRetry.RunAsync("the access store", OpenAsync, cluster.Value.StartTimeout, logger, cancellationToken);

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        await store.OpenAsync(cancellationToken).ConfigureAwait(false);
        var created = await store.CreateWorkspaceAsync(
            new Workspace(WorkspaceIds.Default, "Default", time.GetUtcNow(), WorkspaceSettings.Empty), cancellationToken).ConfigureAwait(false);
        if (created is not (AccessWrite.Done or AccessWrite.IdTaken))
        {
            throw new InvalidOperationException($"The default workspace could not be made ({created}).");
        }

        await keys.LoadAsync(store, cancellationToken).ConfigureAwait(false);
        await directory.StartAsync(cancellationToken).ConfigureAwait(false);
        AccessLog.Ready(logger, (await store.ListWorkspacesAsync(cancellationToken).ConfigureAwait(false)).Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => directory.StopAsync();
}
