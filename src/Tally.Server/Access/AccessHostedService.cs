using Tally.Access;

namespace Tally.Server.Access;

/// <summary>
/// Opens the access store at start (before the server takes requests), makes sure the default workspace exists,
/// loads the server's keys and starts following the store's version; stops following at shutdown.
/// </summary>
internal sealed class AccessHostedService(IAccessStore store, AccessDirectory directory, ServerKeys keys, TimeProvider time, ILogger<AccessHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
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
